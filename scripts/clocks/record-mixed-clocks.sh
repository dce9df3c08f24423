#!/usr/bin/env bash
# record-mixed-clocks.sh OUTDIR -- real recordings whose clocks differ from qemu's log (realtime), for the
# clock checks of `vmtrace analyze` (tests/Vmtrace.Decoding.Tests/ClockAlignmentTests.cs).
#
# While one small qemu (TCG, no guest disk: it stays in its firmware) writes its log-backend trace
# (gettimeofday, realtime), the host is traced twice with trace-cmd:
#   trace-mono-date.dat   -C mono --date  (trace-cmd stores the mono -> gettimeofday offset: DATE option, in us)
#   trace-local.dat       -C local        (sched_clock: no relation to realtime is stored)
# Run as root. trace-cmd needs `-d --no-filter`, no command, and SIGINT to stop on these hosts (see
# scripts/tcg-lab/record-sample.sh); it leaves its clock and buffer size behind, restored here.
# The kallsyms block of each trace.dat (5 MB the decoder skips) is overwritten with zeros so that the
# files stay small once xz-compressed; every other byte is as trace-cmd wrote it.
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
mkdir -p "$OUT"
T=/sys/kernel/tracing
ORIG_CLOCK=$(sed -E 's/.*\[([^]]+)\].*/\1/' $T/trace_clock); ORIG_BUF=$(grep -o '^[0-9]*' $T/buffer_size_kb); ORIG_ON=$(cat $T/tracing_on)
restore() { echo "$ORIG_CLOCK" > $T/trace_clock; echo "$ORIG_BUF" > $T/buffer_size_kb; echo "$ORIG_ON" > $T/tracing_on; }
trap restore EXIT

printf '%s\n' runstate_set vm_state_notify qemu_system_shutdown_request apic_deliver_irq > "$OUT/qemu-events"
qemu-system-x86_64 -name tiny,debug-threads=on -accel tcg -m 64 -display none -monitor none -serial none \
  -trace events="$OUT/qemu-events" -D "$OUT/qemu-tiny.log" -msg timestamp=on &
QEMU=$!
sleep 1

record() { # NAME trace-cmd-clock-args...
  local name=$1; shift
  trace-cmd record "$@" -d --no-filter -b 1000 --file-version 6 -e sched:sched_switch -e sched:sched_process_exec \
    -o "$OUT/$name.dat" > "$OUT/$name.trace-cmd.log" 2>&1 &
  local pid=$!
  sleep 1
  kill -INT $pid
  # with --date, trace-cmd may wait for its time stamp marker until a second SIGINT
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $pid 2>/dev/null || break; sleep 1; done
  kill -INT $pid 2>/dev/null || true
  wait $pid || true
}
record trace-mono-date -C mono --date
record trace-local -C local
kill -TERM $QEMU; wait $QEMU || true
rm "$OUT/qemu-events"

python3 - "$OUT/trace-mono-date.dat" "$OUT/trace-local.dat" <<'PY'
import struct, sys
# trace.dat v6: magic(10) "6\0" endian(1) longsize(1) pagesize(4) | header_page | header_event |
# ftrace formats | event formats | kallsyms (u32 size + data) | ...
for path in sys.argv[1:]:
    with open(path, 'r+b') as f:
        b = bytearray(f.read())
        p = 10 + 2 + 1 + 1 + 4
        for name in (b'header_page\0', b'header_event\0'):
            assert b[p:p+len(name)] == name, (path, p)
            p += len(name); size, = struct.unpack_from('<Q', b, p); p += 8 + size
        count, = struct.unpack_from('<I', b, p); p += 4
        for _ in range(count):
            size, = struct.unpack_from('<Q', b, p); p += 8 + size
        systems, = struct.unpack_from('<I', b, p); p += 4
        for _ in range(systems):
            p = b.index(b'\0', p) + 1
            n, = struct.unpack_from('<I', b, p); p += 4
            for _ in range(n):
                size, = struct.unpack_from('<Q', b, p); p += 8 + size
        size, = struct.unpack_from('<I', b, p)
        b[p+4:p+4+size] = bytes(size)
        f.seek(0); f.write(b)
        print(path, 'kallsyms zeroed:', size, 'bytes at', p + 4)
PY
for f in trace-mono-date.dat trace-local.dat qemu-tiny.log; do xz -9 -f "$OUT/$f"; done
ls -la "$OUT"
