#!/usr/bin/env bash
# record.sh OUTDIR -- record a real host trace in which the kernel counts a vCPU thread's sleep as run-queue wait.
#
# A stand-in VM (vcpu_probe.py: a process named qemu-system-x86 with a thread "CPU 0/TCG" that runs 4 ms and
# sleeps 100 ms) shares both CPUs with two pinned busy loops, while control.py flips the vCPU thread's affinity
# between CPU 0 and 1 every 5 ms. With EEVDF's delayed dequeue (Linux 6.12+) the thread often blocks while
# still queued, and when the kernel moves it then, its run_delay runs from the move through its sleep
# (docs/metrics.md, blocked_queued_ns). control.py reads the thread's schedstat on two 100 ms boundaries.
# OUTDIR receives trace.dat.xz and schedstat.json. Needs root, trace-cmd, python3, two CPUs.
# Host quirks (see scripts/tcg-lab/record-sample.sh): trace-cmd runs with -d --no-filter and no command, is
# stopped with SIGINT, and clock tai equals CLOCK_REALTIME here.
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)   # not a pyenv shim: no extra forks in the trace
W=$(mktemp -d)
PROBE=""; TC=""; SPIN=()
cleanup() {
  [ -n "$PROBE" ] && kill "$PROBE" 2>/dev/null || true
  for p in "${SPIN[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$TC" ] && kill -INT "$TC" 2>/dev/null || true
  # trace-cmd leaves its buffer size and clock behind, and tracing off, on these hosts
  echo "$ORIG_BUF" > $T/buffer_size_kb 2>/dev/null || true
  echo "$ORIG_CLOCK" > $T/trace_clock 2>/dev/null || true
  echo "$ORIG_ON" > $T/tracing_on 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T
ORIG_BUF=$(grep -o '^[0-9]*' $T/buffer_size_kb); ORIG_CLOCK=$(sed -E 's/.*\[([^]]+)\].*/\1/' $T/trace_clock); ORIG_ON=$(cat $T/tracing_on)
mkdir -p "$OUT"
EVENTS="sched:sched_switch sched:sched_waking sched:sched_wakeup sched:sched_wakeup_new sched:sched_migrate_task
  sched:sched_stat_runtime sched:sched_process_fork sched:sched_process_exec sched:sched_process_exit task:task_newtask task:task_rename"
ev=(); for e in $EVENTS; do ev+=(-e "$e"); done
trace-cmd record -C tai -d --no-filter -b 20000 --file-version 6 "${ev[@]}" -o "$W/trace.dat" > "$W/trace-cmd.log" 2>&1 &
TC=$!
sleep 2
for cpu in 0 1; do taskset -c $cpu sh -c 'while :; do :; done' & SPIN+=($!); done
coproc PROBE_IO { exec "$PY" "$HERE/vcpu_probe.py"; }
PROBE=$PROBE_IO_PID
read -r TID <&"${PROBE_IO[0]}"
"$PY" "$HERE/control.py" "$PROBE" "$TID" "$OUT/schedstat.json"
kill "$PROBE"; wait "$PROBE" 2>/dev/null || true; PROBE=""
for p in "${SPIN[@]}"; do kill "$p"; done; SPIN=()
sleep 0.3
kill -INT "$TC"; wait "$TC" || true; TC=""
xz -9e -T1 -c "$W/trace.dat" > "$OUT/trace.dat.xz"
ls -l "$OUT"
