#!/usr/bin/env bash
# End to end as separate processes (docs/capacity.md): vmtrace agent → vmtrace dev-kafka (librdkafka's mock cluster
# over TCP) → vmtrace worker → a real influxd, all on this machine, each its own process, fresh for every run.
#
#   bench/e2e.sh [--runs N] [--speed X] [--partitions N] [--inventory FILE] [--host ID] [--sample S]
#                [--agent-only] [--agent-nice N] [--storage] [--vmtrace CMD] [--work DIR] INPUT...
#
# INPUT: what `vmtrace agent` replays (Agent:Inputs: trace.dat, CTF, qemu logs; plain files, as on a host).
# --speed: Agent:Speed (0 = as fast as possible, the default; 1 = recorded speed).
# --agent-only: no worker and no influxd: the agent's own cost (CPU per event, per second of trace).
# --sample S: every S seconds print the worker's RSS, CPU, events in, windows, points, and the bytes per checkpoint
#   written since the previous sample (the analysis state of the partitions: state over time).
# --agent-nice N: run the agent at nice N. The mock cluster keeps only 5 MB per partition: a worker that falls further
#   behind (CPU taken by the agent and everything else on this machine) loses records, which the run reports as a
#   PROBLEM and stops. CPU seconds per process do not depend on the priority.
# --storage: influxd snapshots its cache to TSM files after 5 s without writes and compacts fully after 10 s; after
#   the run the script waits for that, then prints points and series per measurement (InfluxQL counts) and the bytes
#   of the TSM files and of the WAL: the on-disk bytes per point.
# Per run it prints: events (the worker's count, checked against the agent's), wall seconds from the agent's start
# to the last point acknowledged by InfluxDB (the worker's pending points 0 after the agent's session end), events/s,
# and per process CPU seconds (user+sys from /proc, from the agent's start; JIT start-up included for the agent),
# CPU µs per event, peak RSS (VmHWM); the worker's mean checkpoint bytes; the load average before and after.
# The median of the runs' events/s and CPU per event closes the output.
# vmtrace defaults to the Release build of src/Vmtrace.Cli (dotnet vmtrace.dll), built first if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

runs=3
speed=0
partitions=3
inventory=""
host="e2e-host"
sample=0
agent_only=0
agent_nice=0
storage=0
vmtrace=""
work="${TMPDIR:-/tmp}/vmtrace-e2e"
inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --speed) speed=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --inventory) inventory=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --agent-only) agent_only=1; shift ;;
    --agent-nice) agent_nice=$2; shift 2 ;;
    --storage) storage=1; shift ;;
    --vmtrace) vmtrace=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -*) echo "e2e: unknown option $1" >&2; exit 2 ;;
    *) inputs+=("$(realpath "$1")"); shift ;;
  esac
done
[ ${#inputs[@]} -gt 0 ] || { echo "usage: $0 [--runs N] [--speed X] [--partitions N] [--inventory FILE] [--host ID] [--sample S] [--agent-only] [--agent-nice N] [--storage] [--vmtrace CMD] [--work DIR] INPUT..." >&2; exit 2; }
for tool in influxd curl python3; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is not installed" >&2; exit 1; }
done
if [ -z "$vmtrace" ]; then
  dll="$repo/src/Vmtrace.Cli/bin/Release/net10.0/vmtrace.dll"
  [ -f "$dll" ] || dotnet build "$repo/src/Vmtrace.Cli" -c Release --nologo -v q >&2
  vmtrace="dotnet $dll"
fi
read -r -a vt <<< "$vmtrace"
mkdir -p "$work"
tck=$(getconf CLK_TCK)
pids=()
cleanup() { # the started processes and their children (the agent runs under time, nice and env), SIGKILL after 10 s
  local all=() p
  for p in "${pids[@]}"; do all+=("$p" $(pgrep -P "$p" || true)); done
  for p in "${all[@]}"; do all+=($(pgrep -P "$p" || true)); done
  ((${#all[@]})) || return 0
  kill "${all[@]}" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "${all[@]}" 2>/dev/null || break; sleep 0.1; done
  kill -9 "${all[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_s() { [ -r "/proc/$1/stat" ] && awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / t }' "/proc/$1/stat" || echo 0; }
top_threads() { # PID → the three busiest threads: "comm cpu_s, …" (CPU since the thread started)
  for t in /proc/"$1"/task/*; do awk -v t="$tck" '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c); sub(/^.*\) /, ""); printf "%.2f %s\n", ($12 + $13) / t, c }' "$t/stat" 2>/dev/null; done |
    sort -rn | head -3 | awk '{ n = $1; $1 = ""; printf "%s%s %s s", (NR > 1 ? ", " : ""), substr($0, 2), n }'
}
hwm_mb() { awk '/^VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
metrics() { curl -sf "$1/metrics" | sed 's/{}//'; } # Prometheus text, unlabelled series as "name value"
metric() { # URL NAME → value (0 if absent)
  metrics "$1" | awk -v n="$2" '$1 == n { v = $2 } END { print (v == "" ? 0 : v) }'
}
wait_for() { # SECONDS CMD…: until CMD succeeds
  local limit=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$limit" ] || return 1; sleep 0.2; done
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "e2e: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); vmtrace: ${vt[*]}; influxd $(influxd version 2>/dev/null | head -1)"
echo "inputs: ${inputs[*]}; speed $speed; partitions $partitions; runs $runs; load before: $(load)"

results="$work/results.$$"
: > "$results"
for ((run = 1; run <= runs; run++)); do
  dir=$(mktemp -d "$work/run.XXXX")
  kport=$(free_port)
  bootstrap=""
  "${vt[@]}" dev-kafka --partitions "$partitions" > "$dir/kafka.out" 2> "$dir/kafka.err" &
  kpid=$!; pids+=("$kpid")
  wait_for 60 grep -q : "$dir/kafka.out" || { echo "e2e: dev-kafka did not start" >&2; cat "$dir/kafka.err" >&2; exit 1; }
  bootstrap=$(head -1 "$dir/kafka.out")
  common=("--Kafka:BootstrapServers=$bootstrap")

  if ((! agent_only)); then
    hport=$(free_port); rport=$(free_port)
    cat > "$dir/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"
[meta]
  dir = "$dir/influx/meta"
  logging-enabled = false
[data]
  dir = "$dir/influx/data"
  wal-dir = "$dir/influx/wal"
  query-log-enabled = false
$( ((storage)) && printf '  cache-snapshot-write-cold-duration = "5s"\n  compact-full-write-cold-duration = "10s"\n' )
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$hport"
  log-enabled = false
[logging]
  level = "error"
  suppress-logo = true
EOF
    influxd -config "$dir/influxdb.conf" > "$dir/influxd.log" 2>&1 &
    ipid=$!; pids+=("$ipid")
    wait_for 60 curl -sf "http://127.0.0.1:$hport/ping" || { echo "e2e: influxd did not start" >&2; exit 1; }
    # The database with its retention policies and continuous queries, as deployed (docs/influxdb.md, Bootstrap).
    "${vt[@]}" influx init --url "http://127.0.0.1:$hport" --database vmtrace > "$dir/influx-init.log" 2>&1 || { cat "$dir/influx-init.log" >&2; exit 1; }
    wport=$(free_port)
    Logging__LogLevel__Default=Warning "${vt[@]}" worker "${common[@]}" "--Influx:Url=http://127.0.0.1:$hport" \
      "--Worker:GroupId=e2e" "--Worker:DeadLetterDirectory=$dir/dead" \
      "--Observability:Port=$wport" "--Observability:Address=127.0.0.1" > "$dir/worker.log" 2>&1 &
    wpid=$!; pids+=("$wpid")
    wurl="http://127.0.0.1:$wport"
    assigned() { [ "$(metric "$wurl" vmtrace_worker_assigned_partitions 2>/dev/null || echo 0)" = "$partitions" ]; }
    wait_for 120 assigned || { echo "e2e: the worker did not join (log: $dir/worker.log)" >&2; tail -5 "$dir/worker.log" >&2; exit 1; }
    w0=$(cpu_s "$wpid"); k0=$(cpu_s "$kpid"); i0=$(cpu_s "$ipid")
  else
    k0=$(cpu_s "$kpid")
  fi

  # Shifted to now: the raw retention policy (7 d) would drop points of an older recording.
  agent_args=("${common[@]}" "--Agent:HostId=$host" "--Agent:Speed=$speed" "--Agent:Replay:ShiftToNow=true")
  [ -n "$inventory" ] && agent_args+=("--Agent:Inventory=$(realpath "$inventory")")
  for i in "${!inputs[@]}"; do agent_args+=("--Agent:Inputs:$i=${inputs[$i]}"); done
  start=$(date +%s.%N)
  /usr/bin/time -f '%e %U %S %M' -o "$dir/agent.time" nice -n "$agent_nice" env Logging__LogLevel__Default=Information "${vt[@]}" agent "${agent_args[@]}" > "$dir/agent.log" 2>&1 &
  apid=$!; pids+=("$apid")
  next_sample=$(( $(date +%s) + sample ))
  last_cks=0; last_ckb=0
  lost=0
  if ((! agent_only)); then
    while :; do
      m=$(metrics "$wurl" || true)
      ended=$(awk '$1 == "vmtrace_worker_sessions_ended_total" { print $2 }' <<< "$m")
      pending=$(awk '$1 == "vmtrace_worker_pending_points" { print $2 }' <<< "$m")
      if ((sample > 0)) && (( $(date +%s) >= next_sample )); then
        next_sample=$(( next_sample + sample ))
        line=$(awk -v t="$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")" -v rss="$(rss_mb "$wpid")" -v cpu="$(cpu_s "$wpid")" -v w0="$w0" \
          -v n0="$last_cks" -v b0="$last_ckb" '
          $1 == "vmtrace_worker_events_in_total" { ev = $2 } $1 == "vmtrace_worker_windows_closed_total" { win = $2 }
          $1 == "vmtrace_worker_checkpoints_total" { n = $2 } $1 == "vmtrace_worker_checkpoint_bytes_total" { b = $2 }
          $1 == "vmtrace_worker_points_written_total" { pts = $2 }
          END { printf "    t=%6ss worker RSS %7.1f MB cpu %7.2f s events %12d windows %8d points %9d; checkpoints since last sample %3d, %9.0f B each|%.0f %.0f", t, rss, cpu - w0, ev, win, pts, n - n0, (n > n0 ? (b - b0) / (n - n0) : 0), n, b }' <<< "$m")
        echo "${line%|*}"
        read -r last_cks last_ckb <<< "${line##*|}"
      fi
      if [ "${ended:-0}" != "0" ] && [ "${pending:-1}" = "0" ]; then break; fi
      if ! kill -0 "$wpid" 2>/dev/null; then echo "e2e: the worker exited (log: $dir/worker.log)" >&2; exit 1; fi
      if grep -q 'Offset out of range' "$dir/worker.log"; then
        echo "  PROBLEM: the worker fell more than the mock's 5 MB per partition behind and lost records (run stopped; try --agent-nice 10 or a lower --speed)"
        lost=1
        break
      fi
      sleep 0.05
    done
    if ((lost)); then cleanup; pids=(); continue; fi
    end=$(date +%s.%N)
    w1=$(cpu_s "$wpid"); k1=$(cpu_s "$kpid"); i1=$(cpu_s "$ipid")
    m=$(metrics "$wurl")
    events=$(awk '$1 == "vmtrace_worker_events_in_total" { print $2 }' <<< "$m")
    points=$(awk '$1 == "vmtrace_worker_points_written_total" { print $2 }' <<< "$m")
    cks=$(awk '$1 == "vmtrace_worker_checkpoints_total" { print $2 }' <<< "$m")
    ckb=$(awk '$1 == "vmtrace_worker_checkpoint_bytes_total" { print $2 }' <<< "$m")
    wtop=$(top_threads "$wpid")
    whwm=$(hwm_mb "$wpid"); khwm=$(hwm_mb "$kpid"); ihwm=$(hwm_mb "$ipid")
    wait "$apid" || { echo "e2e: the agent failed (log: $dir/agent.log)" >&2; tail -5 "$dir/agent.log" >&2; exit 1; }
  else
    wait "$apid" || { echo "e2e: the agent failed (log: $dir/agent.log)" >&2; tail -5 "$dir/agent.log" >&2; exit 1; }
    end=$(date +%s.%N)
    k1=$(cpu_s "$kpid"); khwm=$(hwm_mb "$kpid")
    events=""
  fi
  read -r _ au as arss < "$dir/agent.time"
  sent=$(grep -o 'done: [0-9]* events' "$dir/agent.log" | grep -o '[0-9]*' | tail -1 || true)
  wire=$(grep -o '([0-9.]* bytes/event)' "$dir/agent.log" | tr -d '()' | tail -1 || true)
  [ -n "$events" ] || events=${sent:-0}
  wall=$(python3 -c "print(f'{$end - $start:.3f}')")
  acpu=$(python3 -c "print(f'{$au + $as:.3f}')")
  problem=""
  if [ -n "$sent" ] && [ "$sent" != "$events" ]; then problem="  PROBLEM: worker took $events events, agent sent $sent"; fi
  if ((agent_only)); then
    python3 - "$events" "$wall" "$acpu" "$arss" "$k0" "$k1" "$khwm" "$(load)" "$problem; wire $wire" "$au" <<'EOF' | tee -a "$results"
import sys
ev, wall, acpu, arss, k0, k1, khwm, load, problem = sys.argv[1:10]
ev = int(float(ev)); wall = float(wall); acpu = float(acpu)
kc = float(k1) - float(k0)
print(f"  agent only: {ev:,} events in {wall:.2f} s = {ev / wall:,.0f} events/s; agent cpu {acpu:.2f} s (user {float(sys.argv[10]):.2f}) = {acpu * 1e6 / max(ev, 1):.3f} µs/event, peak RSS {int(arss) / 1024:.1f} MB; dev-kafka cpu {kc:.2f} s ({kc * 1e6 / max(ev, 1):.3f} µs/event), peak RSS {khwm} MB; load {load}{problem}")
print(f"RESULT {ev / wall:.0f} {acpu * 1e6 / max(ev, 1):.4f} 0")
EOF
  else
    python3 - "$events" "$wall" "$acpu" "$arss" "$w0" "$w1" "$whwm" "$k0" "$k1" "$khwm" "$i0" "$i1" "$ihwm" "$points" "${cks:-0}" "${ckb:-0}" "$(load)" "$problem" "$wire" "$wtop" <<'EOF' | tee -a "$results"
import sys
a = sys.argv[1:]
ev = int(float(a[0])); wall = float(a[1]); acpu = float(a[2]); arss = int(a[3]) / 1024
wc = float(a[5]) - float(a[4]); kc = float(a[8]) - float(a[7]); ic = float(a[11]) - float(a[10])
points = int(float(a[13])); cks = int(float(a[14])); ckb = int(float(a[15]))
us = lambda c: c * 1e6 / max(ev, 1)
print(f"  {ev:,} events in {wall:.2f} s = {ev / wall:,.0f} events/s; {points:,} points; wire {a[18]}; load {a[16]}{a[17]}")
print(f"    cpu s (µs/event), peak RSS MB:  agent {acpu:.2f} ({us(acpu):.3f}) {arss:.1f}   worker {wc:.2f} ({us(wc):.3f}) {a[6]}   "
      f"dev-kafka {kc:.2f} ({us(kc):.3f}) {a[9]}   influxd {ic:.2f} ({us(ic):.3f}) {a[12]}; worker checkpoints {cks}, mean {ckb / max(cks, 1):,.0f} B")
print(f"    worker's busiest threads (CPU since they started): {a[19]}")
print(f"RESULT {ev / wall:.0f} {us(acpu):.4f} {us(wc):.4f}")
EOF
  fi
  if ((storage && ! agent_only)); then
    sleep 30
    python3 - "http://127.0.0.1:$hport" "$dir/influx" <<'EOF'
import json, os, sys, urllib.parse, urllib.request
url, root = sys.argv[1], sys.argv[2]
def q(text, db="vmtrace"):
    body = urllib.parse.urlencode({"q": text, "db": db}).encode()
    return json.load(urllib.request.urlopen(url + "/query", body))["results"][0].get("series", [])
def size(path, ext=None):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs if ext is None or f.endswith(ext))
total_points = total_series = 0
ms = [v[0] for s in q('SHOW MEASUREMENTS') for v in s["values"]]
for rp in ("raw", "rollup_1m", "rollup_1h"):
    for m in ms:
        counts = q(f'SELECT count(*) FROM "vmtrace"."{rp}"."{m}"')
        if not counts:
            continue
        points = max(v for v in counts[0]["values"][0][1:] if v is not None)
        fields = len(counts[0]["columns"]) - 1
        series = sum(len(s["values"]) for s in q(f'SHOW SERIES FROM "{m}"')) if rp == "raw" else 0
        if rp == "raw":
            total_points += points
            total_series += series
        print(f"    {rp:>9} {m:<22} points {points:>9,} fields {fields:>3}" + (f" series {series:>6,}" if rp == "raw" else ""))
tsm, wal = size(os.path.join(root, "data"), ".tsm"), size(os.path.join(root, "wal"))
raw = size(os.path.join(root, "data", "vmtrace", "raw"), ".tsm")
print(f"    raw: {total_points:,} points, {total_series:,} series; raw TSM files {raw:,} B ({raw / max(total_points, 1):.1f} B/point); all TSM {tsm:,} B, WAL {wal:,} B")
for rp in ("rollup_1m", "rollup_1h"):
    print(f"    {rp} TSM files {size(os.path.join(root, 'data', 'vmtrace', rp), '.tsm'):,} B, WAL {size(os.path.join(root, 'wal', 'vmtrace', rp)):,} B")
EOF
  fi
  cleanup
  pids=()
  rm -rf "$dir"
done
python3 - "$results" <<'EOF'
import statistics, sys
rows = [l.split()[1:] for l in open(sys.argv[1]) if l.startswith("RESULT")]
if rows:
    med = lambda i: statistics.median(float(r[i]) for r in rows)
    print(f"median of {len(rows)} runs: {med(0):,.0f} events/s end to end; agent {med(1):.3f} µs CPU/event; worker {med(2):.3f} µs CPU/event")
EOF
echo "load after: $(load)"
rm -f "$results"
