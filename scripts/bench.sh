#!/usr/bin/env bash
# Decoding benchmark: vmtrace's readers against babeltrace2 and trace-cmd on the real traces.
# usage: scripts/bench.sh [--traces DIR] [--runs N]     (DIR defaults to ../shared/traces beside the repository)
# Results and how to read them: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Vmtrace.Bench -- decode "$@"
