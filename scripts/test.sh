#!/usr/bin/env bash
# Runs every test of the solution and ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
# The tools the tests compare against and the servers they start (a no-op when all are installed).
bash scripts/install-deps.sh
# The default run includes the real-QEMU schedstat comparison (Category=LiveQemu: root, tracefs, qemu). It runs
# on its own after the rest: it compares the trace with the kernel's accounting on this machine's 2 CPUs, and the
# other test assemblies running beside it would only add noise (CI machines are small too). The live-source loss
# measurement is host-dependent and not in the default run: --benchmarks adds it.
filter="Category!=Benchmark"
args=()
for a in "$@"; do
  case "$a" in
    --benchmarks) filter="${filter/Category!=Benchmark/}" ;;
    *) args+=("$a") ;;
  esac
done
filter="${filter#&}"; filter="${filter%&}"
log=$(mktemp)
first="Category!=LiveQemu${filter:+&$filter}"
dotnet test Ingest.sln -c Release --nologo "${args[@]}" --filter "$first" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# The real-QEMU test alone (its project is built by the run above).
dotnet test tests/Vmtrace.Agent.Live.Tests -c Release --nologo --no-build "${args[@]}" --filter "Category=LiveQemu" 2>&1 | tee -a "$log"
rc2=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$rc2
summary=$(awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
    gsub(",", ""); for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
  }
  END { line = (p+0) " passed, " (f+0) " failed"; if (s > 0) line = line ", " s " skipped"; print line }' "$log")
rm -f "$log"
echo "$summary"
if [ "$rc" -eq 0 ] && [[ "$summary" == "0 passed, 0 failed" ]]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$rc"
