#!/usr/bin/env bash
# Whole-process comparison (docs/benchmarks.md, "Whole process"): vmtrace and the reference tool each run as a
# complete process (start-up, JIT, reading, output, exit) on the same trace, alternately, N times each.
#
#   bench/whole-process.sh [--runs N] [--vmtrace PATH] [--ctf DIR] [--tracedat FILE] [--large] [--large-ctf-only] [--work DIR]
#
# Pairs (stdout to /dev/null on both sides):
#   ctf  no output   vmtrace dump --stats CTF        vs  babeltrace2 -o dummy CTF
#   ctf  text        vmtrace dump CTF                vs  babeltrace2 CTF            (babeltrace2's pretty text)
#   dat  text        vmtrace dump FILE               vs  trace-cmd report -i FILE
# Defaults: the tcg-qemu s3 recording (perf CTF 467,031 events; trace.dat 496,626 events), unpacked into --work.
# --large adds the two comparisons of the issue (ctf no output, trace.dat text) on ~20 M events made from s3 (see
# make_large below); babeltrace2's text output of 20 M events takes minutes a run and is left out.
# --large-ctf-only runs only the ~20 M-event CTF pair (no output).
# Prints per command the median and least wall time, median CPU time (user+sys), median peak RSS (getrusage
# ru_maxrss via GNU time), and per pair the ratios of medians: wall and CPU (peer / vmtrace, > 1 = vmtrace faster)
# and peak RSS (vmtrace / peer).
# vmtrace defaults to the Native AOT binary of scripts/publish.sh --aot (artifacts/vmtrace/vmtrace), published first if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

runs=5
vmtrace=""
ctf=""
tracedat=""
large=0
large_ctf_only=0
work="${TMPDIR:-/tmp}/vmtrace-whole-process"
traces="$(cd "$repo/.." && pwd)/shared/traces"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --vmtrace) vmtrace=$2; shift 2 ;;
    --ctf) ctf=$2; shift 2 ;;
    --tracedat) tracedat=$2; shift 2 ;;
    --large) large=1; shift ;;
    --large-ctf-only) large=1; large_ctf_only=1; shift ;;
    --work) work=$2; shift 2 ;;
    --traces) traces=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--vmtrace PATH] [--ctf DIR] [--tracedat FILE] [--large] [--work DIR] [--traces DIR]" >&2; exit 2 ;;
  esac
done

for tool in babeltrace2 trace-cmd /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "whole-process: $tool is not installed (scripts/install-deps.sh installs babeltrace2, trace-cmd, time)" >&2; exit 1; }
done

if [ -z "$vmtrace" ]; then
  vmtrace="$repo/artifacts/vmtrace/vmtrace"
  if [ ! -x "$vmtrace" ]; then
    scripts/publish.sh --aot "$repo/artifacts/vmtrace" >&2
  fi
fi

mkdir -p "$work"
s3="$traces/tcg-qemu/s3-disk-vs-cpu"
if [ -z "$ctf" ]; then
  ctf="$work/s3-ctf/perf-ctf"
  if [ ! -f "$ctf/metadata" ]; then
    mkdir -p "$work/s3-ctf" && tar xJf "$s3/perf-ctf.tar.xz" -C "$work/s3-ctf"
  fi
fi
if [ -z "$tracedat" ]; then
  tracedat="$work/s3.trace.dat"
  [ -f "$tracedat" ] || xz -dc "$s3/trace.dat.xz" > "$tracedat"
fi

# ~20 M events from s3, decoded the same way as the original by both sides:
#  - CTF: s3's two streams, each holding its packets 43 times over, copy j's timestamps moved j x 24 s later
#    (bench/multiply-ctf.py), so the readers merge two streams as in the original;
#  - trace.dat: s3's two CPUs, each holding its pages 40 times over, copy j moved j x 46 s later (bench/multiply-tracedat.py),
#    so the readers merge two CPUs as in the original.
make_large() {
  local dir="$work/s3-ctf-x43-shifted"
  [ -f "$dir/metadata" ] || python3 "$repo/bench/multiply-ctf.py" "$ctf" "$dir" 43
  ((large_ctf_only)) && return
  local dat="$work/s3-x40.trace.dat"
  [ -f "$dat" ] || python3 "$repo/bench/multiply-tracedat.py" "$tracedat" "$dat" 40
}

stat_line() { # file → "wall cpu rss_kb"
  awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run LABEL OUTFILE CMD… : one timed run, stdout discarded, stderr kept apart; appends "wall cpu rss_kb" to OUTFILE.
run() {
  local out=$1; shift
  local t="$work/time.$$"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" > /dev/null 2> "$work/stderr.$$"; then
    echo "whole-process: failed: $*" >&2; cat "$work/stderr.$$" >&2; exit 1
  fi
  stat_line "$t" >> "$out"
}

short() { # the command without paths and --no-progress: "vmtrace dump --stats", "babeltrace2 -o dummy"
  local words=("${1##*/}") w; shift
  for w in "$@"; do [[ $w == /* || $w == --no-progress ]] || words+=("$w"); done
  echo "${words[*]}"
}

summary() { # OUTFILE → "median_wall min_wall median_cpu median_rss_mb"
  local f=$1
  printf '%s %s %s %s\n' \
    "$(cut -d' ' -f1 "$f" | median)" \
    "$(cut -d' ' -f1 "$f" | sort -g | head -1)" \
    "$(cut -d' ' -f2 "$f" | median)" \
    "$(cut -d' ' -f3 "$f" | median | awk '{ printf "%.1f", $1 / 1024 }')"
}


# pair NAME EVENTS -- VMTRACE_CMD… -- PEER_CMD…: alternate the two (order swapped every run), N runs each.
# The inputs are already in the page cache: the event count before each pair reads them whole.
pair() {
  local name=$1 events=$2; shift 3
  local a=() b=()
  while [ "$1" != "--" ]; do a+=("$1"); shift; done; shift
  b=("$@")
  local fa="$work/a.$$" fb="$work/b.$$"
  : > "$fa"; : > "$fb"
  for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then run "$fa" "${a[@]}"; run "$fb" "${b[@]}"; else run "$fb" "${b[@]}"; run "$fa" "${a[@]}"; fi
  done
  read -r wa ma ca ra <<< "$(summary "$fa")"
  read -r wb mb cb rb <<< "$(summary "$fb")"
  printf '%-34s %-28.28s %8s %8s %8s %8s\n' "$name ($events ev)" "$(short "${a[@]}")" "$wa" "$ma" "$ca" "$ra"
  printf '%-34s %-28.28s %8s %8s %8s %8s   %s\n' "" "$(short "${b[@]}")" "$wb" "$mb" "$cb" "$rb" \
    "$(awk -v wa="$wa" -v wb="$wb" -v ca="$ca" -v cb="$cb" -v ra="$ra" -v rb="$rb" \
      'BEGIN { printf "%.2fx wall, %.2fx cpu; RSS %.2fx", wb / wa, (ca > 0 ? cb / ca : 0), ra / rb }')"
}

echo "runs: $runs each, alternating; vmtrace: $vmtrace ($("$vmtrace" --version))"
echo "peers: $(babeltrace2 --version | head -1); $(trace-cmd --version 2>&1 | grep -m1 version | sed 's/^ *//')"
echo "machine: $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %-28s %8s %8s %8s %8s   %s\n' "input / mode" "command" "wall med" "wall min" "cpu med" "RSS MB" "peer ÷ vmtrace: wall, cpu; RSS vmtrace ÷ peer"

if ((! large_ctf_only)); then
  ctf_events=$("$vmtrace" dump --stats --no-progress "$ctf" | awk '/^events:/ { print $2 }')
  dat_events=$("$vmtrace" dump --stats --no-progress "$tracedat" | awk '/^events:/ { print $2 }')
  pair "ctf, no output" "$ctf_events" -- "$vmtrace" dump --stats --no-progress "$ctf" -- babeltrace2 -o dummy "$ctf"
  pair "ctf, text" "$ctf_events" -- "$vmtrace" dump --no-progress "$ctf" -- babeltrace2 "$ctf"
  pair "trace.dat, text" "$dat_events" -- "$vmtrace" dump --no-progress "$tracedat" -- trace-cmd report -i "$tracedat"
fi

if ((large)); then
  make_large
  lctf="$work/s3-ctf-x43-shifted"; ldat="$work/s3-x40.trace.dat"
  lctf_events=$("$vmtrace" dump --stats --no-progress "$lctf" | awk '/^events:/ { print $2 }')
  pair "ctf x43, no output" "$lctf_events" -- "$vmtrace" dump --stats --no-progress "$lctf" -- babeltrace2 -o dummy "$lctf"
  if ((! large_ctf_only)); then
    ldat_events=$("$vmtrace" dump --stats --no-progress "$ldat" | awk '/^events:/ { print $2 }')
    pair "trace.dat x40, text" "$ldat_events" -- "$vmtrace" dump --no-progress "$ldat" -- trace-cmd report -i "$ldat"
  fi
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work"/*.$$
