#!/usr/bin/env bash
# record-sample.sh OUTDIR -- record a small REAL host trace of REAL QEMU/TCG VMs for vmtrace.
#
# Boots, concurrently, under TCG (no /dev/kvm on the lab hosts):
#   web   2 vCPUs  cpu  workload (a busy loop per vCPU)
#   db    1 vCPU   disk workload (O_DIRECT dd on virtio-blk, raw image, aio=threads,cache=none
#                  => every request goes through qemu's thread pool, threads named "worker")
#   edge  1 vCPU   net  workload over tap0 in a private network namespace (10.77.0.0/24 only):
#                  wget of a blob from a busybox httpd + nc upload to a TCP sink, both in the netns
#                  (set NET=0 to leave it out).
# VMS= replaces that line-up (see Env): any number of VMs, each with its own workload, start delay and duration,
# so that VMs arrive at known times; HOG_AT= starts a host busy loop at a known time.
# Each with -name <vm>,debug-threads=on (threads "CPU n/TCG", "worker", "qemu-system-x86"), so with
# 4 vCPU threads on a 2-CPU host they preempt one another.
# Host kernel events come from `trace-cmd record -C tai` (system wide), qemu's own events
# (thread_pool_*, virtio_blk_*, virtio_queue_notify, ...) from its `log` trace backend.
#
# OUTDIR receives: trace.dat.xz, qemu-<vm>.log.xz, serial-<vm>.log, vmmap.json, event-counts.txt,
# trace-stat.txt, README.md.
#
# Env: CACHE=dir for the guest kernel/initramfs (default /var/tmp/vmtrace-tcg-lab)
#      DUR=6        guest workload seconds          NET=1   add the edge VM
#      VMS=name:vcpus:workload[:delay[:dur]],...   the VMs instead of web/db/edge, e.g.
#                   VMS=web:1:cpu:0:20,batch:2:cpu:8:8 (batch launched 8 s after web). workload is
#                   cpu|disk|net|idle|mixed|ipi (mixed = a busy loop beside the disk rounds; ipi = a token passed
#                   between two vCPUs, build-guest.sh); delay = seconds
#                   after the scenario start at which its qemu is launched (default 0); dur = its guest
#                   workload seconds (default DUR). Each disk/mixed VM gets its own raw image; each net VM
#                   its own tap (tapN, 10.77.N.0/24) in the netns. The launch time is in vmmap.json
#                   (launched_realtime, start_delay_s).
#      HOG_AT=S HOG_DUR=D HOG_N=1  a host busy loop (HOG_N of them), the script "vmtrace-hog" (its comm), started
#                   S s after the scenario start and killed D s later; pid and times in vmmap.json host_hogs
#      TIMER_EVENTS=1  also trace timer:hrtimer_expire_*, irq:irq_handler_*, irq:softirq_*, net:net_dev_queue
#                   (what the wait causes need to tell timers from the host; irq_vectors:local_timer_* would
#                   only repeat hrtimer_expire_* and double the timer events: add them with EXTRA_EVENTS)
#      EXTRA_EVENTS="sys:event ..." more kernel events
#      DISK_PAUSE=0.1 / NET_PAUSE=0.3  seconds slept between the guests' I/O rounds (thins the trace)
#      NET_BLOB_MIB=1 NET_UP_MIB=1     sizes moved per net round
#      NET_RATE=8mbit  limit what the host sends to each net VM (tbf on its tap): under TCG an unlimited transfer
#                   keeps the guest's vCPU busy ~90 % of the time (CPU-bound); a slower link makes it wait on the net
#      SCENARIO=name written into vmmap.json (default: basename of OUTDIR)
#      QUIET_WAIT=180 QUIET_PCT=15  wait up to QUIET_WAIT s for the host to be quiet (< QUIET_PCT % busy
#                   over 2 s) before recording: other load on the host bloats the trace
#      KEEP_WORK=1  keep the scratch dir (raw trace.dat, trace-cmd report text)
#
# Quirks of the lab hosts handled here (Firecracker VMs, kernel 6.18):
#   * tracefs may not be mounted: we mount it on /sys/kernel/tracing.
#   * /proc/sys/kernel/ftrace_enabled and set_ftrace_pid/set_ftrace_filter are not writable: trace-cmd
#     must run with `-d --no-filter` and WITHOUT a command to run (both other paths fail or segfault);
#     it is stopped with SIGINT, and may exit non-zero while resetting after the file is complete.
#     It also leaves its -b/-C settings behind and tracing_on=0, so we restore buffer_size_kb,
#     trace_clock and tracing_on.
#   * clock "tai" == CLOCK_REALTIME here, so trace timestamps are UNIX epoch seconds, the same
#     clock as qemu's log lines (gettimeofday).
#   * trace-cmd 3.1.6 writes file version 7 with zstd-compressed pages by default; we ask for
#     --file-version 6 (uncompressed, like the shared traces) so that xz -9 shrinks it ~2x more.
#   * no /dev/kvm (TCG), no /dev/vhost-net (tap with vhost=off).
#   * Debian's qemu 7.2 has only the "log" trace backend: -trace events=FILE -D LOG -msg timestamp=on.
set -euo pipefail
export LC_ALL=C

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CACHE:-/var/tmp/vmtrace-tcg-lab}
DUR=${DUR:-6}
NET=${NET:-1}
DISK_PAUSE=${DISK_PAUSE:-0.1}
NET_PAUSE=${NET_PAUSE:-0.3}
NET_BLOB_MIB=${NET_BLOB_MIB:-1}
NET_UP_MIB=${NET_UP_MIB:-1}
SCENARIO=${SCENARIO:-$(basename "$OUT")}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_PCT=${QUIET_PCT:-15}
TIMER_EVENTS=${TIMER_EVENTS:-1}
EXTRA_EVENTS=${EXTRA_EVENTS:-}
HOG_AT=${HOG_AT:-}
HOG_DUR=${HOG_DUR:-5}
HOG_N=${HOG_N:-1}
if [ -z "${VMS:-}" ]; then
  VMS="web:2:cpu,db:1:disk"; [ "$NET" = 1 ] && VMS="$VMS,edge:1:net"
fi
# name smp workload delay dur
VMSPECS=()
for v in ${VMS//,/ }; do
  IFS=: read -r n c wl dl du <<<"$v"
  case $wl in cpu|disk|net|idle|mixed|ipi) ;; *) echo "VMS: $v: workload must be cpu|disk|net|idle|mixed|ipi" >&2; exit 2 ;; esac
  VMSPECS+=("$n ${c:-1} $wl ${dl:-0} ${du:-$DUR}")
done
NETVMS=0; for s in "${VMSPECS[@]}"; do set -- $s; [ "$3" = net ] && NETVMS=$((NETVMS + 1)); done
TRACEFS=/sys/kernel/tracing
NETNS=vmtrace-lab
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)   # not a pyenv shim: no extra forks in the trace
log() { echo "[record-sample $(date -u +%T)] $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "must run as root (tracefs, netns, tap)" >&2; exit 1; }
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d /var/tmp/vmtrace-rec.XXXXXX)

# ------------------------------------------------------------------ tools + guest
need=""
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v trace-cmd >/dev/null || need="$need trace-cmd"
command -v xz >/dev/null || need="$need xz-utils"
command -v ip >/dev/null || need="$need iproute2"
if [ -n "$need" ]; then
  log "apt-get install$need"
  apt-get install -y $need >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1; apt-get install -y $need >/dev/null; }
fi
"$HERE/build-guest.sh" "$CACHE" >/dev/null
# shellcheck disable=SC1091
. "$CACHE/guest.env"

if [ ! -e $TRACEFS/trace_marker ]; then
  mount -t tracefs nodev $TRACEFS || { echo "cannot mount tracefs on $TRACEFS" >&2; exit 1; }
fi
ORIG_BUF=$(cat $TRACEFS/buffer_size_kb | grep -o '^[0-9]*')
ORIG_CLOCK=$(sed -E 's/.*\[([^]]+)\].*/\1/' $TRACEFS/trace_clock)
ORIG_ON=$(cat $TRACEFS/tracing_on)

# ------------------------------------------------------------------ event lists
KEVENTS=""
for e in sched:sched_switch sched:sched_wakeup sched:sched_waking sched:sched_wakeup_new \
         sched:sched_migrate_task sched:sched_process_fork sched:sched_process_exec \
         sched:sched_process_exit sched:sched_process_free sched:sched_stat_runtime task:task_newtask task:task_rename \
         block:block_rq_issue block:block_rq_complete block:block_rq_insert \
         net:net_dev_xmit net:netif_receive_skb net:netif_rx \
         $([ "$TIMER_EVENTS" = 1 ] && echo timer:hrtimer_expire_entry timer:hrtimer_expire_exit \
             irq:irq_handler_entry irq:irq_handler_exit irq:softirq_entry irq:softirq_exit net:net_dev_queue) \
         $EXTRA_EVENTS; do
  if [ -d "$TRACEFS/events/${e%%:*}/${e#*:}" ]; then KEVENTS="$KEVENTS $e"; else log "kernel event $e missing: skipped"; fi
done
# kvm tracepoints exist in this kernel even without /dev/kvm; they can only fire with KVM
if [ -e /dev/kvm ] && [ -d $TRACEFS/events/kvm ]; then KEVENTS="$KEVENTS kvm"; fi
QEVENTS=""
qhelp=$(qemu-system-x86_64 -trace help 2>/dev/null)
for e in thread_pool_submit thread_pool_complete thread_pool_cancel \
         virtio_blk_handle_read virtio_blk_handle_write virtio_blk_rw_complete virtio_blk_req_complete \
         blk_co_preadv blk_co_pwritev virtio_queue_notify virtio_notify \
         virtio_set_status runstate_set vm_state_notify qemu_system_shutdown_request; do
  if grep -qx "$e" <<<"$qhelp"; then QEVENTS="$QEVENTS $e"; else log "qemu event $e missing: skipped"; fi
done
printf '%s\n' $QEVENTS > "$W/qemu-events.txt"

# ------------------------------------------------------------------ cleanup
TC=""; VMPIDS=""; SRVPIDS=""; HOGPIDS=""
cleanup() {
  local p
  for p in $HOGPIDS; do kill "$p" 2>/dev/null || true; done
  for p in $VMPIDS; do kill "$p" 2>/dev/null || true; done
  for p in $SRVPIDS; do kill "$p" 2>/dev/null || true; done
  [ -n "$TC" ] && kill -INT "$TC" 2>/dev/null || true
  ip netns del $NETNS 2>/dev/null || true
  [ -n "$ORIG_BUF" ] && echo "$ORIG_BUF" > $TRACEFS/buffer_size_kb 2>/dev/null || true
  echo "$ORIG_CLOCK" > $TRACEFS/trace_clock 2>/dev/null || true
  echo "$ORIG_ON" > $TRACEFS/tracing_on 2>/dev/null || true
  [ "${KEEP_WORK:-0}" = 1 ] && log "scratch kept: $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

marker() { echo "vmtrace_marker $* realtime=$EPOCHREALTIME" > $TRACEFS/trace_marker 2>/dev/null || true; }

# ------------------------------------------------------------------ network namespace (net VMs)
# net VM number i (0, 1, ...) has tap<i> = 10.77.<i>.1/24 on the host side, 10.77.<i>.2 in the guest; the servers
# listen on every address of the namespace.
if [ "$NETVMS" -gt 0 ]; then
  ip netns del $NETNS 2>/dev/null || true
  ip netns add $NETNS
  ip -n $NETNS link set lo up
  for ((i = 0; i < NETVMS; i++)); do
    ip -n $NETNS tuntap add dev tap$i mode tap
    ip -n $NETNS addr add 10.77.$i.1/24 dev tap$i
    ip -n $NETNS link set tap$i up
    [ -z "${NET_RATE:-}" ] || ip netns exec $NETNS tc qdisc add dev tap$i root tbf rate "$NET_RATE" burst 16kb latency 200ms
  done
  mkdir -p "$W/www"; head -c $((NET_BLOB_MIB * 1048576)) /dev/urandom > "$W/www/blob"
  cat > "$W/sink.py" <<'EOF2'
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000)); s.listen(8)
def drain(c):
    with c:
        while c.recv(65536):
            pass
while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
EOF2
  ip netns exec $NETNS busybox httpd -f -p 8000 -h "$W/www" & SRVPIDS="$SRVPIDS $!"
  ip netns exec $NETNS "$PY" "$W/sink.py" & SRVPIDS="$SRVPIDS $!"
  sleep 0.5
fi
printf '#!/bin/sh\n# host CPU hog of the tcg-lab recordings: a busy loop\nwhile :; do :; done\n' > "$W/vmtrace-hog"
chmod 755 "$W/vmtrace-hog"

# ------------------------------------------------------------------ VMs
: > "$W/vms.txt"; : > "$W/threads.txt"; : > "$W/hogs.txt"
NETIDX=0
launch() {
  local name=$1 smp=$2 wl=$3 delay=$4 dur=$5 pre=() extra=() app tap=-
  app="vmtrace_wl=$wl vmtrace_dur=$dur"
  case $wl in
    disk|mixed)
          dd if=/dev/zero of="$W/$name.img" bs=1M count=32 status=none
          extra=(-drive "file=$W/$name.img,if=virtio,format=raw,aio=threads,cache=none")
          app="$app vmtrace_pause=$DISK_PAUSE" ;;
    net)  tap=tap$NETIDX
          pre=(ip netns exec $NETNS)
          extra=(-netdev tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off -device virtio-net-pci,netdev=n0)
          app="$app vmtrace_ip=10.77.$NETIDX.2/24 vmtrace_peer=10.77.$NETIDX.1 vmtrace_mib=$NET_UP_MIB vmtrace_pause=$NET_PAUSE"
          NETIDX=$((NETIDX + 1)) ;;
  esac
  "${pre[@]}" qemu-system-x86_64 -name "$name,debug-threads=on" -machine pc -accel tcg,thread=multi \
      -m 192 -smp "$smp" -nodefaults -display none -no-reboot -monitor none \
      -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
      -append "console=ttyS0 quiet panic=-1 $app" \
      -serial "file:$W/serial-$name.log" "${extra[@]}" \
      -trace "events=$W/qemu-events.txt" -D "$W/qemu-$name.log" -msg timestamp=on \
      > "$W/qemu-$name.stderr" 2>&1 &
  local pid=$!
  VMPIDS="$VMPIDS $pid"
  echo "$name $pid $smp $wl $dur $tap $EPOCHREALTIME $delay" >> "$W/vms.txt"
  marker "vm_start name=$name pid=$pid smp=$smp workload=$wl dur=$dur delay=$delay"
  log "started $name pid=$pid smp=$smp workload=$wl dur=$dur (delay ${delay}s)"
}
# times in microseconds, into the variable named by $1 (bash arithmetic has no floats; no $(...), which would fork)
since_t0_us() { local n=${EPOCHREALTIME/./} t=${T0/./}; printf -v "$1" %d $(( 10#$n - 10#$t )); }
secs_us() { local a=${2%%.*} b=; [[ $2 == *.* ]] && b=${2#*.}; b=${b}000000; printf -v "$1" %d $(( 10#${a:-0} * 1000000 + 10#${b:0:6} )); }
start_hogs() {
  local i
  for ((i = 0; i < HOG_N; i++)); do
    "$W/vmtrace-hog" & HOGPIDS="$HOGPIDS $!"
    echo "start $! $EPOCHREALTIME" >> "$W/hogs.txt"
    marker "hog_start comm=vmtrace-hog pid=$!"
    log "host hog vmtrace-hog pid=$! started"
  done
}
stop_hogs() {
  local p
  for p in $HOGPIDS; do
    kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
    echo "stop $p $EPOCHREALTIME" >> "$W/hogs.txt"
    marker "hog_stop comm=vmtrace-hog pid=$p"
    log "host hog pid=$p stopped"
  done
  HOGPIDS=""
}

# ------------------------------------------------------------------ record
. "$HERE/quiet-host.sh"
wait_for_quiet_host
ev=(); for e in $KEVENTS; do ev+=(-e "$e"); done
log "trace-cmd record:${KEVENTS}"
trace-cmd record -C tai -d --no-filter -b 20000 --file-version 6 "${ev[@]}" -o "$W/trace.dat" > "$W/trace-cmd.log" 2>&1 &
TC=$!
sleep 2    # let trace-cmd arm its per-CPU readers
T0=$EPOCHREALTIME
marker "scenario_start name=$SCENARIO"
# launch each VM at its delay, start/stop the host hog, and sample the threads of every VM (builtins only: no forks
# but sleep) until all have been launched and have powered off
pending=("${VMSPECS[@]}")
hog_state=none; [ -n "$HOG_AT" ] && hog_state=pending
maxend=0
for s in "${VMSPECS[@]}"; do set -- $s; secs_us e "$4"; e=$(( e / 1000000 + $5 )); [ $e -gt $maxend ] && maxend=$e; done
hog_from=0 hog_to=0
if [ -n "$HOG_AT" ]; then secs_us hog_from "$HOG_AT"; secs_us hog_to "$HOG_DUR"; hog_to=$((hog_from + hog_to)); fi
deadline=$(( ${T0%.*} + maxend + 90 ))
while :; do
  rest=()
  since_t0_us el
  for s in "${pending[@]}"; do
    set -- $s
    secs_us at "$4"
    if [ "$el" -ge "$at" ]; then launch $s; else rest+=("$s"); fi
  done
  pending=("${rest[@]}")
  since_t0_us el
  if [ $hog_state = pending ] && [ "$el" -ge "$hog_from" ]; then start_hogs; hog_state=running; fi
  if [ $hog_state = running ] && [ "$el" -ge "$hog_to" ]; then stop_hogs; hog_state=done; fi
  alive=0
  now=$EPOCHREALTIME
  for p in $VMPIDS; do
    [ -d /proc/$p ] || continue
    alive=1
    read -r c < /proc/$p/comm 2>/dev/null || continue
    [ "$c" = qemu-system-x86 ] || continue           # still `ip netns exec`
    [ -f "$W/cmdline-$p.txt" ] || tr '\0' ' ' < /proc/$p/cmdline > "$W/cmdline-$p.txt"
    for t in /proc/$p/task/*; do
      read -r c < "$t/comm" 2>/dev/null && echo "$now $p ${t##*/} $c" >> "$W/threads.txt"
    done
  done
  [ $alive = 0 ] && [ ${#pending[@]} = 0 ] && [ $hog_state != pending ] && [ $hog_state != running ] && break
  [ $alive = 0 ] && [ ${#pending[@]} = 0 ] && [ $hog_state = running ] && { stop_hogs; hog_state=done; }
  if [ "${now%.*}" -gt "$deadline" ]; then log "timeout: killing VMs"; for p in $VMPIDS; do kill "$p" 2>/dev/null || true; done; fi
  sleep 0.1
done
for p in $VMPIDS; do wait "$p" 2>/dev/null || log "qemu $p exited rc=$?"; done
VMPIDS=""
marker "scenario_end name=$SCENARIO"
T1=$EPOCHREALTIME
sleep 0.5
kill -INT "$TC"; wait "$TC" && tcrc=0 || tcrc=$?; TC=""
echo "trace-cmd rc=$tcrc (non-zero while resetting ftrace is a known quirk here)" >> "$W/trace-cmd.log"
[ -s "$W/trace.dat" ] || { log "no trace.dat (see $W/trace-cmd.log)"; cat "$W/trace-cmd.log" >&2; exit 1; }
[ "$NETVMS" -gt 0 ] && ip -n $NETNS -s link show > "$W/tap-stats.txt" 2>&1 || true

# ------------------------------------------------------------------ post-process
log "trace-cmd report"
trace-cmd report -i "$W/trace.dat" > "$W/trace-report.txt" 2> "$W/trace-report.stderr"
trace-cmd report --stat -i "$W/trace.dat" > "$W/trace-stat.txt" 2>&1 || true
{
  echo "uname: $(uname -sr)"; echo "ncpu: $(nproc)"
  echo "qemu: $(qemu-system-x86_64 --version | head -1)"
  echo "trace-cmd: $(trace-cmd --version 2>&1 | grep -m1 -o 'version [^ ]*')"
  echo "guest_kernel: $GUEST_KERNEL_PACKAGE"
  echo "kevents:$KEVENTS"; echo "qevents:$QEVENTS"
  echo "dur: $DUR"; echo "vms: $VMS"; echo "hog: ${HOG_AT:+at=$HOG_AT dur=$HOG_DUR n=$HOG_N}"; echo "disk_pause: $DISK_PAUSE"; echo "net_pause: $NET_PAUSE"
  echo "net_blob_mib: $NET_BLOB_MIB"; echo "net_up_mib: $NET_UP_MIB"; echo "net_rate: ${NET_RATE:-unlimited}"
  echo "host_busy_before_start: host_busy_pct_before_start=$busy waited_s=$waited quiet_threshold_pct=$QUIET_PCT"
  echo "kvm: $([ -e /dev/kvm ] && echo yes || echo no)"; echo "vhost_net: $([ -e /dev/vhost-net ] && echo yes || echo no)"
} > "$W/host-info.txt"
"$PY" "$HERE/postprocess.py" "$W" "$SCENARIO" "$T0" "$T1" "$CACHE" || { log "postprocess failed"; exit 1; }

log "writing $OUT"
rm -f "$OUT"/trace.dat.xz "$OUT"/qemu-*.log.xz "$OUT"/serial-*.log
xz -9 -T1 -c "$W/trace.dat" > "$OUT/trace.dat.xz"
for s in "${VMSPECS[@]}"; do
  n=${s%% *}
  xz -9 -T1 -c "$W/qemu-$n.log" > "$OUT/qemu-$n.log.xz"
  tr -d '\r' < "$W/serial-$n.log" > "$OUT/serial-$n.log"
done
cp "$W/vmmap.json" "$W/event-counts.txt" "$W/trace-stat.txt" "$OUT/"
"$PY" "$HERE/postprocess.py" --readme "$W" "$OUT" > "$OUT/README.md"
log "done: $(du -sb "$OUT" | cut -f1) bytes in $OUT (trace.dat.xz $(stat -c %s "$OUT/trace.dat.xz") bytes)"
cat "$OUT/event-counts.txt"
