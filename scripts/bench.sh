#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md):
#   scripts/bench.sh [--traces DIR] [--runs N]                      decoding: vmtrace's readers against babeltrace2 and trace-cmd
#   scripts/bench.sh pipeline [--rate EV_PER_S] [--seconds S]       agent → Kafka (mock) → worker → influxd: stages, events/s, window lag
#   scripts/bench.sh analyze | wire                                 analysis speed; wire bytes/event
# DIR defaults to ../shared/traces beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  decode|analyze|wire|pipeline) exec dotnet run -c Release --project bench/Vmtrace.Bench -- "$@" ;;
  *) exec dotnet run -c Release --project bench/Vmtrace.Bench -- decode "$@" ;;
esac
