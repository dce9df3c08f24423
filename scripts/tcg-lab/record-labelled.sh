#!/usr/bin/env bash
# record-labelled.sh SET [SCENARIO...] -- record the labelled recordings of samples/labelled/SET with record-sample.sh.
#
# Every scenario's labels come from the harness: each VM's workload (the guest's kernel command line, echoed on its
# console), its qemu launch time (VMS delay; vmmap.json launched_realtime) and the host hog's pid and start/stop times
# (vmmap.json host_hogs). SET is
#   heldout  recordings the tests check the analysis against; never used to train or tune anything
#   train    recordings the workload model is trained on (WorkloadModelTests), disjoint from heldout
# With no SCENARIO, all of the set's scenarios, in order. NOT_AFTER=HH:MM (UTC) skips a scenario that would start after
# that time (the quiet window's end minus one recording). Other env (QUIET_PCT, QUIET_WAIT, ...) passes through.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SET=${1:?usage: $0 heldout|train [SCENARIO...]}; shift
ROOT=$(cd "$HERE/../.." && pwd)

declare -A SPEC
case $SET in
  heldout)
    ORDER=(arrival hog waits idle net disk-cpu mixed)
    # web computes alone, then batch (2 vCPUs) arrives 6 s later: three busy vCPUs on 2 CPUs
    SPEC[arrival]="VMS=web:1:cpu:0:10,batch:2:cpu:6:3"
    # solo (2 busy vCPUs) alone on the 2 CPUs, then a host busy loop (vmtrace-hog) steals from it for 4 s
    SPEC[hog]="VMS=solo:2:cpu:0:10 HOG_AT=7 HOG_DUR=4"
    # a disk-bound, a network-bound and an idle VM side by side
    SPEC[waits]="VMS=db:1:disk:0:7,edge:1:net:0:7,sleeper:1:idle:0:7"
    SPEC[idle]="VMS=sleeper:1:idle:0:7"
    SPEC[net]="VMS=edge:1:net:0:7"
    # a disk VM, joined 6 s later by a 2-vCPU cpu VM
    SPEC[disk-cpu]="VMS=db:1:disk:0:10,crunch:2:cpu:6:3"
    SPEC[mixed]="VMS=mix:1:mixed:0:7"
    ;;
  train)
    ORDER=(idle-mixed cpu-disk-net)
    SPEC[idle-mixed]="VMS=nap:1:idle:0:8,blend:1:mixed:0:8"
    SPEC[cpu-disk-net]="VMS=calc:1:cpu:0:8,store:1:disk:0:8,wire:1:net:0:8"
    ;;
  *) echo "SET must be heldout or train" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && ORDER=("$@")

for s in "${ORDER[@]}"; do
  [ -n "${SPEC[$s]:-}" ] || { echo "unknown scenario $s in $SET" >&2; exit 2; }
  if [ -n "${NOT_AFTER:-}" ] && [[ $(date -u +%H:%M) > $NOT_AFTER ]]; then
    echo "[record-labelled] $(date -u +%T) past $NOT_AFTER: $s not recorded" >&2; continue
  fi
  echo "[record-labelled] $(date -u +%T) $SET/$s: ${SPEC[$s]}" >&2
  env ${SPEC[$s]} SCENARIO="labelled/$SET/$s" "$HERE/record-sample.sh" "$ROOT/samples/labelled/$SET/$s"
done
