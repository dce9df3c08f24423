#!/usr/bin/env bash
# record-plain.sh OUTDIR N -- record what a user records by hand: N QEMU/TCG guests started WITHOUT
# debug-threads=on (every qemu thread is named "qemu-system-x86"), then a PLAIN system-wide
# `trace-cmd record -e sched -e block -e net` of the host, twice: once with `-O record-tgid`, once
# without. No vmmap.json is written: the point is that the trace alone must say which thread is whose.
#
# Guests (all run the cpu workload, a busy loop per vCPU, for the whole recording):
#   1  -name demo3 -smp 2             (each with a QMP socket, asked which thread runs which vCPU)
#   2  -name guest=demo4,debug-threads=off -smp 2      (the -name guest=NAME,... form)
#   3  -name demo5 -smp 1
# The guests are booted BEFORE the recording starts, so no fork/exec event names their threads.
#
# OUTDIR receives: tgid.dat.xz, notgid.dat.xz (trace-cmd file version 6), labels.txt (ground truth:
# per guest its name, qemu pid and every thread tid/comm read from /proc during each recording),
# cmdline-<pid>.txt, trace-cmd-<kind>.log.
#
# Env: CACHE (guest kernel/initramfs, default /var/tmp/vmtrace-tcg-lab), REC_SECONDS=3 per recording,
#      BOOT_WAIT=12 seconds to let the guests boot into their workload before recording.
#      START_DURING=1: one recording only, during.dat.xz, started BEFORE the guests (1.5 s in) and stopped
#      BOOT_WAIT s after, so fork/exec events name every qemu thread (identity "fork").
# Host quirks (see record-sample.sh): trace-cmd needs -d --no-filter, no command, SIGINT to stop.
set -euo pipefail
export LC_ALL=C

OUT=${1:?usage: $0 OUTDIR N}
N=${2:?usage: $0 OUTDIR N}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CACHE:-/var/tmp/vmtrace-tcg-lab}
REC_SECONDS=${REC_SECONDS:-3}
BOOT_WAIT=${BOOT_WAIT:-12}
TRACEFS=/sys/kernel/tracing
log() { echo "[record-plain $(date -u +%T)] $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "must run as root (tracefs)" >&2; exit 1; }
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d /var/tmp/vmtrace-plain.XXXXXX)
"$HERE/build-guest.sh" "$CACHE" >/dev/null
# shellcheck disable=SC1091
. "$CACHE/guest.env"
[ -e $TRACEFS/trace_marker ] || mount -t tracefs nodev $TRACEFS
ORIG_BUF=$(grep -o '^[0-9]*' $TRACEFS/buffer_size_kb)
ORIG_ON=$(cat $TRACEFS/tracing_on)
ORIG_TGID=$(cat $TRACEFS/options/record-tgid)

TC=""; VMPIDS=""
cleanup() {
  local p
  for p in $VMPIDS; do kill "$p" 2>/dev/null || true; done
  [ -n "$TC" ] && kill -INT "$TC" 2>/dev/null || true
  echo "$ORIG_BUF" > $TRACEFS/buffer_size_kb 2>/dev/null || true
  echo "$ORIG_ON" > $TRACEFS/tracing_on 2>/dev/null || true
  echo "$ORIG_TGID" > $TRACEFS/options/record-tgid 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NAMES=(demo3 demo4 demo5); SMPS=(2 2 1)
NAMEARGS=("demo3" "guest=demo4,debug-threads=off" "demo5")
: > "$W/vms.txt"
launch_all() {
local i
for ((i = 0; i < N; i++)); do
  qemu-system-x86_64 -name "${NAMEARGS[$i]}" -machine pc -accel tcg,thread=multi \
      -m 160 -smp "${SMPS[$i]}" -nodefaults -display none -no-reboot -monitor none \
      -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
      -append "console=ttyS0 quiet panic=-1 vmtrace_wl=cpu vmtrace_dur=600" \
      -serial "file:$W/serial-${NAMES[$i]}.log" -qmp "unix:$W/qmp-${NAMES[$i]}.sock,server=on,wait=off" \
      > "$W/qemu-${NAMES[$i]}.stderr" 2>&1 &
  VMPIDS="$VMPIDS $!"
  echo "${NAMES[$i]} $! ${SMPS[$i]}" >> "$W/vms.txt"
  log "started ${NAMES[$i]} pid=$! smp=${SMPS[$i]} (-name ${NAMEARGS[$i]})"
done
}
# which thread runs which vCPU, from qemu itself (QMP query-cpus-fast)
cat > "$W/qmp.py" <<'EOF2'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c):
    f.write(json.dumps({"execute": c}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
f.readline(); cmd("qmp_capabilities")
for c in cmd("query-cpus-fast")["return"]:
    print(c["cpu-index"], c["thread-id"])
EOF2
query_vcpus() {
: > "$W/vcpus.txt"
while read -r name pid smp; do
  /usr/bin/python3 "$W/qmp.py" "$W/qmp-$name.sock" | while read -r idx tid; do echo "vcpu $pid $idx $tid"; done >> "$W/vcpus.txt"
done < "$W/vms.txt"
}

snapshot() {   # labels: vm NAME pid PID smp N / thread PID TID COMM
  local kind=$1 name pid smp t c
  echo "# recording $kind"
  while read -r name pid smp; do
    echo "vm $name pid $pid smp $smp"
    for t in /proc/$pid/task/*; do
      read -r c < "$t/comm" && echo "thread $pid ${t##*/} $c"
    done
  done < "$W/vms.txt"
}

start_trace() {   # start_trace KIND [trace-cmd options...]
  local kind=$1; shift
  trace-cmd record -d --no-filter -b 4000 --file-version 6 "$@" -e sched -e block -e net \
      -o "$W/$kind.dat" > "$W/trace-cmd-$kind.log" 2>&1 &
  TC=$!
  sleep 1.5
}
stop_trace() {
  local kind=$1
  kill -INT "$TC"; wait "$TC" || true; TC=""
  echo 0 > $TRACEFS/options/record-tgid 2>/dev/null || true
  [ -s "$W/$kind.dat" ] || { cat "$W/trace-cmd-$kind.log" >&2; exit 1; }
}
record() {   # record KIND [trace-cmd options...]
  local kind=$1
  log "recording $kind ($REC_SECONDS s)"
  start_trace "$@"
  snapshot "$kind" > "$W/labels-$kind.txt"
  sleep "$REC_SECONDS"
  snapshot "$kind" > "$W/labels-$kind-end.txt"
  stop_trace "$kind"
}
if [ "${START_DURING:-0}" = 1 ]; then
  # the guests start while recording: fork/exec events name every qemu thread
  KINDS="during"
  log "recording during (guests started 1.5 s in, $BOOT_WAIT s of boot)"
  start_trace during
  launch_all
  sleep "$BOOT_WAIT"
  query_vcpus
  snapshot during > "$W/labels-during-end.txt"
  : > "$W/labels-during.txt"
  stop_trace during
else
  KINDS="tgid notgid"
  launch_all
  sleep "$BOOT_WAIT"
  query_vcpus
  record tgid -O record-tgid
  record notgid
fi

for p in $VMPIDS; do tr '\0' ' ' < /proc/$p/cmdline > "$W/cmdline-$p.txt"; echo >> "$W/cmdline-$p.txt"; done
for p in $VMPIDS; do kill "$p" 2>/dev/null || true; done
VMPIDS=""

{
  echo "# ground truth for record-plain.sh $N: the qemu processes and their threads as /proc listed them"
  echo "# during each recording (start and end of the recording); vcpu PID INDEX TID from QMP query-cpus-fast"
  cat "$W/vcpus.txt"
  for k in $KINDS; do cat "$W/labels-$k.txt" "$W/labels-$k-end.txt"; done
} > "$OUT/labels.txt"
for k in $KINDS; do
  xz -9 -T1 -c "$W/$k.dat" > "$OUT/$k.dat.xz"
  cp "$W/trace-cmd-$k.log" "$OUT/"
done
cp "$W"/cmdline-*.txt "$OUT/"
log "done: $(du -sb "$OUT" | cut -f1) bytes in $OUT"
ls -la "$OUT" >&2
