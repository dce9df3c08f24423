#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json (the provisioned dashboards). Edit here, run, commit both.
Queries are InfluxQL against the datasource of uid vmtrace-influxdb (grafana/provisioning/datasources)."""
import json, os

DS = {"type": "influxdb", "uid": "vmtrace-influxdb"}
HERE = os.path.dirname(os.path.abspath(__file__))
H = '"host" =~ /^$host$/'
V = '"vm" =~ /^$vm$/'
PER_S = '* 1000 / $__interval_ms'          # a sum over one $__interval → per second
FRACTION = '/ ($__interval_ms * 1000000)'  # a sum of ns over one $__interval → fraction of it


def var(name, query, label, multi=True, include_all=True):
    return {"type": "query", "name": name, "label": label, "datasource": DS, "query": query,
            "refresh": 2, "multi": multi, "includeAll": include_all, "sort": 1, "regex": "",
            "options": [], "hide": 0, "skipUrlSync": False}


HOST = var("host", 'SHOW TAG VALUES FROM "vmtrace_vm" WITH KEY = "host"', "host")
VM = var("vm", f'SHOW TAG VALUES FROM "vmtrace_vm" WITH KEY = "vm" WHERE {H}', "VM")
HOST1 = var("host", 'SHOW TAG VALUES FROM "vmtrace_vm" WITH KEY = "host"', "host", multi=False, include_all=False)
VM1 = var("vm", f'SHOW TAG VALUES FROM "vmtrace_vm" WITH KEY = "vm" WHERE {H}', "VM", multi=False, include_all=False)


class Board:
    def __init__(self, uid, title, description, variables, time_from="now-6h", tags=()):
        self.d = {"uid": uid, "title": title, "description": description, "tags": ["vmtrace", *tags],
                  "schemaVersion": 39, "version": 1, "editable": True, "graphTooltip": 1, "timezone": "",
                  "time": {"from": time_from, "to": "now"}, "refresh": "30s", "fiscalYearStartMonth": 0,
                  "liveNow": False, "weekStart": "", "annotations": {"list": []}, "links": [],
                  "templating": {"list": variables}, "panels": []}
        self.x = self.y = 0
        self.row_h = 0

    def panel(self, kind, title, unit, targets, w=12, h=8, interval=None, description="", options=None,
              custom=None, fmt="time_series", thresholds=None, transformations=None, stacked=False, mappings=None):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        defaults = {"unit": unit, "mappings": mappings or []}
        if thresholds:
            defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
            defaults["color"] = {"mode": "thresholds"}
        if kind == "timeseries":
            defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 30 if stacked else 10,
                                  "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
                                  "spanNulls": False, "showPoints": "never", **(custom or {})}
        elif custom:
            defaults["custom"] = custom
        p = {"id": len(self.d["panels"]) + 1, "type": kind, "title": title, "description": description,
             "datasource": DS, "gridPos": {"x": self.x, "y": self.y, "w": w, "h": h},
             "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options or {},
             "targets": [{"refId": chr(65 + i), "datasource": DS, "rawQuery": True, "query": q,
                          "resultFormat": fmt, **({"alias": a} if a else {})} for i, (q, a) in enumerate(targets)]}
        if interval:
            p["interval"] = interval
        if transformations:
            p["transformations"] = transformations
        self.d["panels"].append(p)
        self.x += w
        self.row_h = max(self.row_h, h)

    def write(self, name):
        with open(os.path.join(HERE, "dashboards", name), "w") as f:
            json.dump(self.d, f, indent=2)
            f.write("\n")


LEGEND_TABLE = {"legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"], "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"}}
BAR = {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True, "valueMode": "color",
       "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "minVizHeight": 16, "maxVizHeight": 24}

# ---------------------------------------------------------------- fleet overview
b = Board("vmtrace-fleet", "vmtrace / Fleet overview",
          "Hosts and VMs ranked by preemption, pCPU share, exit rate, disk latency and network throughput; pipeline lag.",
          [HOST], tags=["fleet"])
b.panel("bargauge", "VMs by preempted vCPU time", "ns",
        [(f'SELECT sum("preempted_ns") FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', "$tag_host / $tag_vm")],
        w=8, h=9, options=BAR, description="Time the VMs' vCPUs were runnable but not running (preempted), over the range.")
b.panel("bargauge", "VMs by pCPU share", "percentunit",
        [(f'SELECT mean("pcpu_share") FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', "$tag_host / $tag_vm")],
        w=8, h=9, options=BAR, description="On-CPU time of all the VM's threads / (window × host pCPUs), mean over the range.")
b.panel("bargauge", "VMs by VM exit rate", "ops",
        [(f'SELECT sum("exits") / sum("window_ns") * 1000000000 FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', "$tag_host / $tag_vm")],
        w=8, h=9, options=BAR, description="VM exits handled per second (KVM hosts; none under TCG).")
b.panel("bargauge", "VMs by disk latency p95 (worst window)", "ns",
        [(f'SELECT max("latency_p95_ns") FROM "vmtrace_disk" WHERE {H} AND $timeFilter GROUP BY "host", "vm", "layer"', "$tag_host / $tag_vm ($tag_layer)")],
        w=8, h=9, options=BAR)
b.panel("bargauge", "VMs by network bytes (received + sent)", "decbytes",
        [(f'SELECT sum("rx_bytes") + sum("tx_bytes") FROM "vmtrace_net" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', "$tag_host / $tag_vm")],
        w=8, h=9, options=BAR)
b.panel("bargauge", "Hosts by preempted vCPU time", "ns",
        [(f'SELECT sum("preempted_ns") FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host"', "$tag_host")],
        w=8, h=9, options=BAR)
b.panel("timeseries", "Host pCPU demand (sum of its VMs' pCPU shares)", "percentunit",
        [(f'SELECT sum("share") FROM (SELECT mean("pcpu_share") AS "share" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm") WHERE $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host")],
        w=12, interval="1s", options=LEGEND_TABLE)
b.panel("timeseries", "Network throughput per VM", "Bps",
        [(f'SELECT (sum("rx_bytes") + sum("tx_bytes")) {PER_S} FROM "vmtrace_net" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm" fill(none)', "$tag_host / $tag_vm")],
        w=12, interval="1s", options=LEGEND_TABLE)
b.panel("timeseries", "Pipeline lag: Kafka records not yet consumed", "short",
        [('SELECT max("consumer_lag") FROM "pipeline_health" WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=12, interval="10s")
b.panel("timeseries", "Pipeline lag: event time behind the newest event", "ns",
        [('SELECT max("watermark_lag_ns") FROM "pipeline_health" WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=12, interval="10s")
b.write("fleet-overview.json")

# ---------------------------------------------------------------- VM detail
b = Board("vmtrace-vm", "vmtrace / VM detail",
          "One VM: vCPU time split, per-vCPU state timeline, exits by reason, disk, network, who preempted it.",
          [HOST1, VM1], tags=["vm"])
b.panel("timeseries", "vCPU time split", "suffix: vCPU",
        [(f'SELECT sum("guest_ns") / sum("window_ns") AS "guest", sum("host_ns") / sum("window_ns") AS "hypervisor", '
          f'sum("preempted_ns") / sum("window_ns") AS "preempted", sum("wait_ns") / sum("window_ns") AS "waiting", '
          f'(sum("blocked_ns") - sum("blocked_queued_ns")) / sum("window_ns") AS "idle", '
          f'sum("blocked_queued_ns") / sum("window_ns") AS "idle, counted as steal by the kernel" '
          f'FROM "vmtrace_vm" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=24, h=8, interval="1s", stacked=True, options=LEGEND_TABLE,
        description="vCPUs' worth of time in each state: guest mode, hypervisor (exit handling, qemu; all on-CPU time under TCG), preempted, "
                    "waiting after wake-up, idle (blocked). The guest's steal time is preempted + waiting + the idle time the kernel counts as "
                    "run-queue wait (a sleeping vCPU it moved while still queued: docs/metrics.md).")
STATE_STEPS = [{"color": "#d0d0d0", "value": None}, {"color": "#fade2a", "value": 0.05}, {"color": "#73bf69", "value": 0.5}]
b.panel("state-timeline", "vCPU on CPU (share of the interval)", "percentunit",
        [(f'SELECT (sum("guest_ns") + sum("host_ns")) {FRACTION} FROM "vmtrace_vcpu" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "vcpu" fill(none)', "vCPU $tag_vcpu")],
        w=12, h=8, interval="1s", thresholds=STATE_STEPS, options={"showValue": "never", "mergeValues": False, "rowHeight": 0.8},
        description="Grey: idle or not running, yellow: partly running, green: running most of the interval.")
PRE_STEPS = [{"color": "#d0d0d0", "value": None}, {"color": "#ff9830", "value": 0.05}, {"color": "#f2495c", "value": 0.3}]
b.panel("state-timeline", "vCPU preempted (share of the interval)", "percentunit",
        [(f'SELECT sum("preempted_ns") {FRACTION} FROM "vmtrace_vcpu" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "vcpu" fill(none)', "vCPU $tag_vcpu")],
        w=12, h=8, interval="1s", thresholds=PRE_STEPS, options={"showValue": "never", "mergeValues": False, "rowHeight": 0.8})
b.panel("timeseries", "VM exits by reason (rate)", "ops",
        [(f'SELECT sum("count") {PER_S} FROM "vmtrace_exit" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "reason", "isa", "reason_name" fill(none)', "$tag_isa $tag_reason $tag_reason_name")],
        w=12, interval="1s", options=LEGEND_TABLE, description="Reason numbers are the tracer's exit_reason, named in the table of the host's ISA (vmx: 12 HLT, 48 EPT_VIOLATION; svm: 120 = 0x78 HLT, 1024 = 0x400 NPF); no name when the trace does not say its ISA.")
b.panel("timeseries", "VM exit handling latency p50 / p95 / p99", "ns",
        [(f'SELECT max("latency_p50_ns") AS "p50", max("latency_p95_ns") AS "p95", max("latency_p99_ns") AS "p99" FROM "vmtrace_exit" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "reason", "isa", "reason_name" fill(none)', "$tag_isa $tag_reason $tag_reason_name $col")],
        w=12, interval="1s", options=LEGEND_TABLE)
b.panel("timeseries", "Disk IOPS (completed)", "iops",
        [(f'SELECT sum("completed") {PER_S} FROM "vmtrace_disk" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "layer" fill(none)', "$tag_layer")],
        w=12, interval="1s")
b.panel("timeseries", "Disk bytes", "Bps",
        [(f'SELECT sum("read_bytes") {PER_S} AS "read", sum("write_bytes") {PER_S} AS "write" FROM "vmtrace_disk" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "layer" fill(none)', "$tag_layer $col")],
        w=12, interval="1s")
b.panel("timeseries", "Disk latency p50 / p95 / p99", "ns",
        [(f'SELECT max("latency_p50_ns") AS "p50", max("latency_p95_ns") AS "p95", max("latency_p99_ns") AS "p99" FROM "vmtrace_disk" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "layer" fill(none)', "$tag_layer $col")],
        w=12, interval="1s")
b.panel("timeseries", "Disk requests in flight", "short",
        [(f'SELECT max("max_in_flight") AS "max in flight", last("in_flight") AS "in flight at end" FROM "vmtrace_disk" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "layer" fill(none)', "$tag_layer $col")],
        w=12, interval="1s")
b.panel("timeseries", "Network bytes", "Bps",
        [(f'SELECT sum("rx_bytes") {PER_S} AS "received", sum("tx_bytes") {PER_S} AS "sent" FROM "vmtrace_net" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=8, interval="1s")
b.panel("timeseries", "Network packets", "pps",
        [(f'SELECT sum("rx_packets") {PER_S} AS "received", sum("tx_packets") {PER_S} AS "sent" FROM "vmtrace_net" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=8, interval="1s")
b.panel("timeseries", "vhost threads busy / waiting", "percentunit",
        [(f'SELECT sum("vhost_busy_ns") {FRACTION} AS "busy", sum("vhost_wait_ns") {FRACTION} AS "waiting" FROM "vmtrace_net" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=8, interval="1s")
b.panel("timeseries", "Who preempted it (over time)", "percentunit",
        [(f'SELECT sum("preempted_ns") {FRACTION} FROM "vmtrace_interference" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "culprit" fill(none)', "$tag_culprit")],
        w=16, interval="1s", stacked=True, options=LEGEND_TABLE)
b.panel("piechart", "Who preempted it (total)", "ns",
        [(f'SELECT sum("preempted_ns") FROM "vmtrace_interference" WHERE {H} AND {V} AND $timeFilter GROUP BY "culprit"', "$tag_culprit")],
        w=8, options={"reduceOptions": {"calcs": ["sum"], "fields": "", "values": False}, "pieType": "donut",
                      "legend": {"displayMode": "table", "placement": "right", "values": ["value", "percent"], "showLegend": True}})
b.write("vm-detail.json")

# ---------------------------------------------------------------- interference
b = Board("vmtrace-interference", "vmtrace / Interference",
          "Preempted vCPU time by VM and culprit (another VM, the same VM, a host process, idle), and the noisiest neighbours per host.",
          [HOST], tags=["interference"])
b.panel("table", "Preempted time matrix: VM × culprit", "ns",
        [(f'SELECT sum("preempted_ns") AS "preempted" FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY "vm", "culprit"', None)],
        w=24, h=10, fmt="table",
        transformations=[{"id": "groupingToMatrix", "options": {"rowField": "vm", "columnField": "culprit", "valueField": "preempted"}}],
        custom={"cellOptions": {"type": "color-background", "mode": "gradient"}, "align": "auto"},
        thresholds=[{"color": "transparent", "value": None}, {"color": "#ff9830", "value": 1e8}, {"color": "#f2495c", "value": 1e9}])
b.panel("table", "Top noisy neighbours per host", "ns",
        [(f'SELECT top("total", "culprit", 10) AS "preempted others" FROM (SELECT sum("preempted_ns") AS "total" FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY "host", "culprit") WHERE $timeFilter GROUP BY "host"', None)],
        w=12, h=10, fmt="table")
b.panel("timeseries", "Preempted time by culprit", "percentunit",
        [(f'SELECT sum("preempted_ns") {FRACTION} FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "culprit" fill(none)', "$tag_host: $tag_culprit")],
        w=12, h=10, interval="1s", stacked=True, options=LEGEND_TABLE)
b.write("interference.json")

# ---------------------------------------------------------------- capacity planning
b = Board("vmtrace-capacity", "vmtrace / Capacity planning",
          "From the rollup retention policies (rollup_1h: 3 years, rollup_1m: 90 days): pCPU demand per VM and per host, p95 of preemption, headroom and its projection.",
          [HOST], time_from="now-90d", tags=["capacity"])
b.panel("timeseries", "pCPU demand per VM (hourly rollup)", "percentunit",
        [(f'SELECT mean("mean_pcpu_share") FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm" fill(none)', "$tag_host / $tag_vm")],
        w=12, interval="1h", options=LEGEND_TABLE)
b.panel("timeseries", "pCPU demand per host (hourly rollup)", "percentunit",
        [(f'SELECT sum("share") FROM (SELECT mean("mean_pcpu_share") AS "share" FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm") WHERE $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host")],
        w=12, interval="1h", options=LEGEND_TABLE)
b.panel("timeseries", "Preemption p95 per VM (of the minute rollups)", "suffix: vCPU",
        [(f'SELECT percentile("vcpus", 95) FROM (SELECT "sum_preempted_ns" / "sum_window_ns" AS "vcpus" FROM "rollup_1m"."vmtrace_vm" WHERE {H} AND $timeFilter) WHERE $timeFilter GROUP BY time($__interval), "host", "vm" fill(none)', "$tag_host / $tag_vm")],
        w=12, interval="1d", options=LEGEND_TABLE,
        description="vCPUs' worth of preempted time (over the windows each minute holds) in the 95th-percentile minute of each day.")
b.panel("timeseries", "Headroom per host: 1 − pCPU demand (peak hour of the day)", "percentunit",
        [(f'SELECT 1 - max("share") FROM (SELECT sum("share") AS "share" FROM (SELECT mean("mean_pcpu_share") AS "share" FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time(1h), "host", "vm") WHERE $timeFilter GROUP BY time(1h), "host") WHERE $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host headroom")],
        w=12, interval="1d", options=LEGEND_TABLE)
b.panel("timeseries", "Projected pCPU demand per host (Holt-Winters, 30 days ahead)", "percentunit",
        [(f'SELECT holt_winters_with_fit(max("share"), 30, 7) FROM (SELECT sum("share") AS "share" FROM (SELECT mean("mean_pcpu_share") AS "share" FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time(1h), "host", "vm") WHERE $timeFilter GROUP BY time(1h), "host") WHERE $timeFilter GROUP BY time($__interval), "host"', "$tag_host projected")],
        w=24, interval="1d", options=LEGEND_TABLE,
        description="Daily peak of host pCPU demand fitted and projected 30 days ahead with a weekly season; headroom is what stays below 100 %. "
                    "Empty until the range holds two weeks of data (InfluxDB's holt_winters needs two seasons).")
b.write("capacity-planning.json")

# ---------------------------------------------------------------- pipeline health
b = Board("vmtrace-pipeline", "vmtrace / Pipeline health",
          "Worker and agent counters written every health interval to pipeline_health: events read and sent by each host's agent, its buffer and "
          "blocked time, tracer-lost events; records and events in, windows and points out, lag, retries, dead letters at the workers.",
          [var("instance", 'SHOW TAG VALUES FROM "pipeline_health" WITH KEY = "instance"', "worker"),
           var("host", 'SHOW TAG VALUES FROM "pipeline_health" WITH KEY = "host"', "agent host")], time_from="now-1h", tags=["pipeline"])
A = '"component" = \'agent\' AND ' + H
# Agents (component=agent, one series per host): their counters travel in the wire stream and the worker writes them.
b.panel("timeseries", "Agent: events read and sent (trace → Kafka)", "ops",
        [(f'SELECT non_negative_derivative(max("events_read"), 1s) AS "read", non_negative_derivative(max("events_sent"), 1s) AS "sent" FROM "pipeline_health" WHERE {A} AND $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host $col")],
        w=12, interval="10s", options=LEGEND_TABLE)
b.panel("timeseries", "Agent: buffer waiting for Kafka", "decbytes",
        [(f'SELECT max("buffered_bytes") AS "buffered", max("buffer_capacity_bytes") AS "capacity" FROM "pipeline_health" WHERE {A} AND $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host $col")],
        w=12, interval="10s", options=LEGEND_TABLE,
        description="What the agent holds for Kafka; at capacity its trace source is blocked (nothing is dropped).")
b.panel("timeseries", "Agent: time the source was blocked by a full buffer", "percentunit",
        [(f'SELECT non_negative_derivative(max("buffer_full_wait_ns"), 1s) / 1000000000 FROM "pipeline_health" WHERE {A} AND $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host")],
        w=8, interval="10s")
b.panel("timeseries", "Agent: tracer-lost events and delivery errors (totals)", "short",
        [(f'SELECT max("tracer_lost_events") AS "tracer-lost events", max("delivery_errors") AS "Kafka delivery errors", max("events_skipped") AS "events not sent (not used by the analysis)" FROM "pipeline_health" WHERE {A} AND $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host $col")],
        w=8, interval="10s")
b.panel("timeseries", "Agent: records produced and delivered (totals)", "short",
        [(f'SELECT max("records_produced") AS "produced", max("records_delivered") AS "delivered" FROM "pipeline_health" WHERE {A} AND $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host $col")],
        w=8, interval="10s")
I = '"instance" =~ /^$instance$/'
b.panel("timeseries", "Records and events in (Kafka → worker)", "ops",
        [(f'SELECT non_negative_derivative(max("records_in"), 1s) AS "records in", non_negative_derivative(max("events_in"), 1s) AS "events in" FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance $col")],
        w=12, interval="10s", options=LEGEND_TABLE)
b.panel("timeseries", "Windows and points out (worker → InfluxDB)", "ops",
        [(f'SELECT non_negative_derivative(max("windows_written"), 1s) AS "windows", non_negative_derivative(max("points_written"), 1s) AS "points" FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance $col")],
        w=12, interval="10s", options=LEGEND_TABLE)
b.panel("timeseries", "Consumer lag (records)", "short",
        [(f'SELECT max("consumer_lag") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=8, interval="10s")
b.panel("timeseries", "Event-time lag (watermark)", "ns",
        [(f'SELECT max("watermark_lag_ns") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=8, interval="10s")
b.panel("timeseries", "InfluxDB write latency (mean)", "ms",
        [(f'SELECT mean("write_latency_ms") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=8, interval="10s")
b.panel("timeseries", "Retries and failed writes (totals)", "short",
        [(f'SELECT max("influx_retries") AS "InfluxDB retries", max("write_failures") AS "write failures" FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance $col")],
        w=8, interval="10s")
b.panel("timeseries", "Dead letters (totals)", "short",
        [(f'SELECT max("dead_lettered") AS "records dead-lettered", max("influx_dead_lettered") AS "lines dead-lettered by InfluxDB", max("sessions_cut_short") AS "sessions cut short" FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance $col")],
        w=8, interval="10s")
b.panel("timeseries", "Tracer-lost events reported by agents (total)", "short",
        [(f'SELECT max("agent_skipped_events") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY time($__interval), "instance" fill(none)', "$tag_instance")],
        w=8, interval="10s")
b.panel("stat", "Checkpoints written", "short",
        [(f'SELECT max("checkpoints") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY "instance"', "$tag_instance")],
        w=12, h=5, options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none"})
b.panel("stat", "Checkpoint size", "decbytes",
        [(f'SELECT last("checkpoint_bytes") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY "instance"', "$tag_instance")],
        w=12, h=5, options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none"})
b.write("pipeline-health.json")
