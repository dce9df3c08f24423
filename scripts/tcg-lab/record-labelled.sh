#!/usr/bin/env bash
# record-labelled.sh SET [SCENARIO...] -- record the labelled recordings of samples/labelled/SET with record-sample.sh.
#
# Every scenario's labels come from the harness: each VM's workload (the guest's kernel command line, echoed on its
# console), its qemu launch time (VMS delay; vmmap.json launched_realtime) and the host hog's pid and start/stop times
# (vmmap.json host_hogs). SET is
#   heldout  recordings the tests check the analysis against; never used to train or tune anything
#   train    recordings to train the workload model on, disjoint from heldout (none is shipped: the model trained on the
#            corpus classifies the held-out windows as labelled; see docs/metrics.md)
# With no SCENARIO, all of the set's scenarios, in order. NOT_AFTER=HH:MM (UTC) skips a scenario that would start after
# that time (the quiet window's end minus one recording). Other env (QUIET_PCT, QUIET_WAIT, ...) passes through.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SET=${1:?usage: $0 heldout|train [SCENARIO...]}; shift
ROOT=$(cd "$HERE/../.." && pwd)

declare -A SPEC
case $SET in
  heldout)
    ORDER=(arrival hog hog2 arrival2 waits idle net net-down net-up net-slow waits-slow disk-cpu mixed ipi)
    # web computes alone, then batch (2 vCPUs) arrives 6 s later: three busy vCPUs on 2 CPUs
    SPEC[arrival]="VMS=web:1:cpu:0:10,batch:2:cpu:6:3"
    # solo (2 busy vCPUs) alone on the 2 CPUs, then a host busy loop (vmtrace-hog) steals from it for 4 s
    SPEC[hog]="VMS=solo:2:cpu:0:10 HOG_AT=7 HOG_DUR=4"
    # the other way round: one busy vCPU, then two host busy loops for 3 s; a 2-vCPU VM joined by a 1-vCPU one
    SPEC[hog2]="VMS=solo:1:cpu:0:10 HOG_AT=6 HOG_DUR=3 HOG_N=2"
    SPEC[arrival2]="VMS=web:2:cpu:0:10,late:1:cpu:6:3"
    # a disk-bound, a network-bound and an idle VM side by side; bound = no pause between the I/O rounds (with
    # DISK_PAUSE/NET_PAUSE the guests sleep on their timers most of the time, and their waits are the timer's)
    SPEC[waits]="VMS=db:1:disk:0:7,edge:1:net:0:7,sleeper:1:idle:0:7 DISK_PAUSE=0 NET_PAUSE=0"
    SPEC[idle]="VMS=sleeper:1:idle:0:7"
    SPEC[net]="VMS=edge:1:net:0:6 NET_PAUSE=0"
    # the same guest only downloading (8 MiB blobs), then only uploading (8 MiB per round)
    SPEC[net-down]="VMS=edge:1:net:0:6 NET_PAUSE=0 NET_BLOB_MIB=8 NET_UP_MIB=0"
    SPEC[net-up]="VMS=edge:1:net:0:6 NET_PAUSE=0 NET_BLOB_MIB=0 NET_UP_MIB=8"
    # network-bound: the host sends at most 8 Mbit/s to the guest (tbf on its tap), which downloads
    SPEC[net-slow]="VMS=edge:1:net:0:6 NET_PAUSE=0 NET_RATE=8mbit NET_UP_MIB=0"
    SPEC[waits-slow]="VMS=db:1:disk:0:7,edge:1:net:0:7,sleeper:1:idle:0:7 DISK_PAUSE=0 NET_PAUSE=0 NET_RATE=8mbit NET_UP_MIB=0"
    # a disk-bound VM, joined 5 s later by a 2-vCPU cpu VM
    SPEC[disk-cpu]="VMS=db:1:disk:0:9,crunch:2:cpu:5:3 DISK_PAUSE=0"
    SPEC[mixed]="VMS=mix:1:mixed:0:7"
    # two guest processes on the two vCPUs of one VM waking each other (reschedule IPIs)
    SPEC[ipi]="VMS=pair:2:ipi:0:6"
    ;;
  train)
    # more training windows for the workload model, should it need them (distinct VM names, sizes, mixes)
    ORDER=(idle-mixed cpu-disk-net)
    SPEC[idle-mixed]="VMS=nap:1:idle:0:8,blend:1:mixed:0:8"
    SPEC[cpu-disk-net]="VMS=calc:1:cpu:0:8,store:1:disk:0:8,wire:1:net:0:8 DISK_PAUSE=0 NET_PAUSE=0 NET_RATE=8mbit"
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
