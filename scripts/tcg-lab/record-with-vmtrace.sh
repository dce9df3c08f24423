#!/usr/bin/env bash
# record-with-vmtrace.sh OUTDIR -- a small REAL recording made by `vmtrace record` of one REAL QEMU/TCG VM.
#
# Boots `web` (2 vCPUs, a busy loop per vCPU, under TCG: no /dev/kvm on the lab hosts) with
# -name web,debug-threads=on and qemu's log trace backend, waits until its workload runs, then records the
# host with `vmtrace record -o DIR --duration REC` (vmtrace's default events, clock and instance). OUTDIR
# receives trace.dat.xz, vmmap.json (as vmtrace record wrote it), qemu-web.log.xz when qemu logged while
# recorded, serial-web.log, trace-cmd.log, stats.txt (`vmtrace dump --stats`) and README.md.
#
# Env: CACHE=dir of the guest (default /var/tmp/vmtrace-tcg-lab)   DUR=20 guest workload seconds
#      REC=3s     recording duration                              VMTRACE="dotnet .../vmtrace.dll" (built if missing)
#      QUIET_WAIT=180 QUIET_PCT=30  wait up to QUIET_WAIT s for the host to be under QUIET_PCT % busy
# Refuses to keep a recording in which vmtrace record found another qemu (another user's VMs on the host).
set -euo pipefail
export LC_ALL=C

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${CACHE:-/var/tmp/vmtrace-tcg-lab}
DUR=${DUR:-20}
REC=${REC:-3s}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_PCT=${QUIET_PCT:-30}
DLL=$REPO/src/Vmtrace.Cli/bin/Release/net10.0/vmtrace.dll
log() { echo "[record-with-vmtrace $(date -u +%T)] $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "must run as root (vmtrace record needs tracefs)" >&2; exit 1; }
if [ -z "${VMTRACE:-}" ]; then
  [ -f "$DLL" ] || dotnet build "$REPO/src/Vmtrace.Cli" -c Release --nologo -v q >&2
  VMTRACE="dotnet $DLL"
fi
"$HERE/build-guest.sh" "$CACHE" >/dev/null
# shellcheck disable=SC1091
. "$CACHE/guest.env"
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d /var/tmp/vmtrace-recv.XXXXXX)
QPID=""
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

. "$HERE/quiet-host.sh"
wait_for_quiet_host

printf '%s\n' thread_pool_submit thread_pool_complete runstate_set vm_state_notify qemu_system_shutdown_request > "$W/qemu-events.txt"
qemu-system-x86_64 -name web,debug-threads=on -machine pc -accel tcg,thread=multi -m 192 -smp 2 -nodefaults \
  -display none -no-reboot -monitor none -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
  -append "console=ttyS0 quiet panic=-1 no_timer_check vmtrace_wl=cpu vmtrace_dur=$DUR" \
  -serial "file:$W/serial-web.log" -trace "events=$W/qemu-events.txt" -D "$W/qemu-web.log" -msg timestamp=on \
  > "$W/qemu.stderr" 2>&1 &
QPID=$!
for _ in $(seq 1 600); do
  grep -q "VMTRACE_WL start" "$W/serial-web.log" 2>/dev/null && break
  kill -0 "$QPID" 2>/dev/null || { cat "$W/qemu.stderr" >&2; exit 1; }
  sleep 0.2
done
grep -q "VMTRACE_WL start" "$W/serial-web.log" || { log "the guest did not start its workload"; exit 1; }
log "web (pid $QPID) runs its workload: recording $REC"
# shellcheck disable=SC2086
$VMTRACE record -o "$W/rec" --duration "$REC" > "$W/record.out"
cat "$W/record.out" >&2
others=$(python3 -c "import json,sys; print(sum(1 for v in json.load(open(sys.argv[1]))['vms'] if v['pid'] != int(sys.argv[2])))" "$W/rec/vmmap.json" "$QPID")
[ "$others" = 0 ] || { log "vmtrace record found $others other qemu process(es) on this host: not kept, try again when they are gone"; exit 1; }
kill "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true; QPID=""

rm -f "$OUT"/trace.dat.xz "$OUT"/qemu-*.log.xz
xz -9 -T1 -c "$W/rec/trace.dat" > "$OUT/trace.dat.xz"
[ -f "$W/rec/qemu-web.log" ] && xz -9 -T1 -c "$W/rec/qemu-web.log" > "$OUT/qemu-web.log.xz"
cp "$W/rec/vmmap.json" "$W/rec/trace-cmd.log" "$OUT/"
tr -d '\r' < "$W/serial-web.log" > "$OUT/serial-web.log"
# shellcheck disable=SC2086
$VMTRACE dump "$W/rec/trace.dat" --stats > "$OUT/stats.txt"
{
  cat <<EOF
# $(basename "$OUT"): a recording made by \`vmtrace record\` of one real QEMU/TCG VM

Made by this project (\`scripts/tcg-lab/record-with-vmtrace.sh\`); free to redistribute with it.

## How it was made

As root, on $(date -u '+%Y-%m-%d %H:%M') UTC, host $(uname -r), $(nproc) CPUs, no /dev/kvm (QEMU runs the guest
under TCG: no \`kvm_*\` events fire), host ${busy}% busy before the start:

\`\`\`sh
scripts/tcg-lab/record-with-vmtrace.sh $(realpath --relative-to="$REPO" "$OUT")
\`\`\`

It boots \`web\` (\`qemu-system-x86_64 -name web,debug-threads=on -accel tcg,thread=multi -smp 2\`, the guest of
\`scripts/tcg-lab/build-guest.sh\` running a busy loop per vCPU for ${DUR} s, qemu's log trace backend on), waits
until the workload runs, then records with

\`\`\`sh
vmtrace record -o DIR --duration $REC
\`\`\`

$(cat "$W/record.out")

\`trace.dat\` was then xz-compressed; \`vmmap.json\` and \`trace-cmd.log\` are as \`vmtrace record\` wrote them.
qemu logged nothing while recorded (its events here fire at boot and power-off only), so there is no qemu log.

## What it holds

- \`trace.dat.xz\`: trace-cmd file version 6, instance buffer \`$(python3 -c "import json; print(json.load(open('$W/rec/vmmap.json'))['trace']['instance'])")\`, clock tai with the offset to realtime stored (OFFSET option)
- \`vmmap.json\`: one VM, \`web\`, pid $(python3 -c "import json; print(json.load(open('$W/rec/vmmap.json'))['vms'][0]['pid'])"), threads: $(python3 -c "import json; print(', '.join('%d %s (%s)' % (t['tid'], t['comm'], t['role']) for t in json.load(open('$W/rec/vmmap.json'))['vms'][0]['threads']))")
- \`stats.txt\`: \`vmtrace dump trace.dat --stats\`; \`serial-web.log\`: the guest's console

\`\`\`
$(cat "$OUT/stats.txt")
\`\`\`
EOF
} > "$OUT/README.md"
log "done: $(du -sb "$OUT" | cut -f1) bytes in $OUT"
