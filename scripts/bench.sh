#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md):
#   scripts/bench.sh [--traces DIR] [--runs N]                      decoding: vmtrace's readers against babeltrace2 and trace-cmd
#   scripts/bench.sh pipeline [--rate EV_PER_S] [--seconds S]       agent → Kafka (mock) → worker → influxd: stages, events/s, window lag
#   scripts/bench.sh analyze | wire                                 analysis speed; wire bytes/event
#   scripts/bench.sh pipeline --lag-only [--rate R] [--seconds S]   only the window lag at rate R for S seconds (p50/p90/p99/max)
#   scripts/bench.sh synth-host --out DIR [--vms N] [--seconds S]   a synthetic KVM host's trace.dat + vmmap.json (docs/capacity.md)
# DIR defaults to ../shared/traces beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  decode|analyze|wire|pipeline|synth-host) exec dotnet run -c Release --project bench/Vmtrace.Bench -- "$@" ;;
  *) exec dotnet run -c Release --project bench/Vmtrace.Bench -- decode "$@" ;;
esac
