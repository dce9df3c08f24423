#!/usr/bin/env bash
# The packaged vmtrace: one directory, no .NET installation needed on the target (linux-x64).
#   scripts/publish.sh [--aot] [OUTDIR]      default OUTDIR: artifacts/vmtrace (run OUTDIR/vmtrace)
# Default: self-contained, ReadyToRun (the assemblies precompiled, so start-up JIT is small; every command works).
# --aot: Native AOT, one native file: the fastest start (no JIT at all); trace reading commands (dump, analyze,
# kvm-stat, top) are what it is measured on (docs/benchmarks.md); agent, worker and influx use reflection-based
# JSON and configuration binding that the AOT compiler warns about, so use the default build for those.
set -euo pipefail
cd "$(dirname "$0")/.."
aot=0
if [ "${1:-}" = "--aot" ]; then aot=1; shift; fi
out="${1:-artifacts/vmtrace}"
if ((aot)); then
  # The compiler's trim and AOT warnings (IL2026, IL3050, …) name the reflection above: warnings, not errors here.
  dotnet publish src/Vmtrace.Cli -c Release -r linux-x64 -p:PublishAot=true -p:TreatWarningsAsErrors=false \
    --nologo -v q -o "$out"
else
  dotnet publish src/Vmtrace.Cli -c Release -r linux-x64 --self-contained true -p:PublishReadyToRun=true \
    --nologo -v q -o "$out"
fi
echo "$out/vmtrace"
