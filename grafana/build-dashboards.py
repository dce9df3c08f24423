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
              custom=None, fmt="time_series", thresholds=None, transformations=None, stacked=False, mappings=None, links=None):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        defaults = {"unit": unit, "mappings": mappings or []}
        if links:
            defaults["links"] = links
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

    def links(self, *uids):
        self.d["links"] = board_links(*uids)

    def annotation(self, name, query, colour, text, tags, time_end=None, title=None):
        """An InfluxQL annotation query: one annotation per row, at its time; text, tags (comma-separated column
        names), the end of a region (timeEnd, in ms since the epoch, as Grafana reads times) and the title are the
        columns so named (Grafana's InfluxDB annotation field mappings)."""
        self.d["annotations"]["list"].append({
            "name": name, "datasource": DS, "enable": True, "hide": False, "iconColor": colour,
            "target": {"refId": "Anno", "datasource": DS, "rawQuery": True, "resultFormat": "table", "fromAnnotations": True,
                       "query": query, "textColumn": text, "tagsColumn": ",".join(tags),
                       "timeEndColumn": time_end or "", "titleColumn": title or ""}})

    def write(self, name):
        with open(os.path.join(HERE, "dashboards", name), "w") as f:
            json.dump(self.d, f, indent=2)
            f.write("\n")


# Drill-down: fleet → host (the fleet and interference dashboards narrowed to one host) → VM → its exits. Every
# link keeps the time range (${__url_time_range}) and passes the variables the target dashboard declares.
TIME = "${__url_time_range}"


def to_host(host="${__data.fields.host}"):
    return [{"title": "Host overview: ${__data.fields.host}", "url": f"/d/vmtrace-fleet?var-host={host}&{TIME}"},
            {"title": "Who preempted whom on ${__data.fields.host}", "url": f"/d/vmtrace-interference?var-host={host}&{TIME}"}]


def to_vm(host="${__data.fields.host}", vm="${__data.fields.vm}"):
    return [{"title": f"VM detail: {vm}", "url": f"/d/vmtrace-vm?var-host={host}&var-vm={vm}&{TIME}"},
            {"title": f"VM exits: {vm}", "url": f"/d/vmtrace-exits?var-host={host}&var-vm={vm}&{TIME}"}]


def board_links(*uids):
    return [{"title": t, "type": "link", "url": f"/d/{u}?{TIME}", "keepTime": False, "includeVars": False,
             "asDropdown": False, "icon": "dashboard", "targetBlank": False, "tags": [], "tooltip": ""}
            for u, t in uids]


# Green unless a level means something; Grafana's default (red from 80) would paint any figure above 80 red.
GREEN = [{"color": "green", "value": None}]
# Preempted share of the vCPUs' demand (runnable time: guest + hypervisor + preempted + waiting).
DEMAND_STEPS = [{"color": "green", "value": None}, {"color": "#ff9830", "value": 0.05}, {"color": "#f2495c", "value": 0.2}]


def ranked(value):
    """A ranking in table form: one row per tag combination, largest first; the bars are titled by the tag columns."""
    return [{"id": "organize", "options": {"excludeByName": {"Time": True}}},
            {"id": "sortBy", "options": {"fields": {}, "sort": [{"field": value, "desc": True}]}}]


LEGEND_TABLE = {"legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"], "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"}}
BAR = {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True, "valueMode": "color",
       "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": True}, "minVizHeight": 16, "maxVizHeight": 24}

# Interference episodes as annotations: a region from the episode's start (the point's time) to its end (end_ns, in ms
# for Grafana), titled by its severity, with its advice as text and VM, resource and main culprit as tags.
def episode_annotation(board, where):
    board.annotation("Interference episodes",
                     f'SELECT "end_ns" / 1000000 AS "time_end", "severity", "advice", "vm", "resource", "culprit" FROM "vmtrace_episode" '
                     f'WHERE {where} AND $timeFilter',
                     "#f2495c", text="advice", tags=["vm", "resource", "culprit"], time_end="time_end", title="severity")


# ---------------------------------------------------------------- fleet overview
b = Board("vmtrace-fleet", "vmtrace / Fleet overview",
          "Hosts and VMs ranked by preemption, pCPU share, exit rate, disk latency and network throughput; pipeline lag.",
          [HOST], tags=["fleet"])
b.links(("vmtrace-interference", "Interference"), ("vmtrace-capacity", "Capacity planning"), ("vmtrace-pipeline", "Pipeline health"))
b.panel("bargauge", "VMs by preempted vCPU time", "ns",
        [(f'SELECT sum("preempted_ns") AS "preempted" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("preempted"), thresholds=GREEN, links=to_vm(),
        description="Time the VMs' vCPUs were runnable but not running (preempted), over the range, largest first.")
b.panel("bargauge", "VMs by preempted share of vCPU demand", "percentunit",
        [(f'SELECT sum("preempted_ns") / (sum("guest_ns") + sum("host_ns") + sum("preempted_ns") + sum("wait_ns")) AS "preempted share" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("preempted share"), thresholds=DEMAND_STEPS, links=to_vm(),
        description="Preempted time over the time the vCPUs wanted a CPU (guest + hypervisor + preempted + waiting): orange from 5 %, red from 20 % of the demand unserved.")
b.panel("bargauge", "VMs by pCPU share", "percentunit",
        [(f'SELECT mean("pcpu_share") AS "pcpu share" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("pcpu share"), thresholds=GREEN, links=to_vm(),
        description="On-CPU time of all the VM's threads / (window × host pCPUs), mean over the range.")
b.panel("bargauge", "VMs by VM exit rate", "ops",
        [(f'SELECT sum("exits") / sum("window_ns") * 1000000000 AS "exits per s" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("exits per s"), thresholds=GREEN, links=to_vm(),
        description="VM exits handled per second of the VM's windows (KVM hosts; none under TCG).")
b.panel("bargauge", "VMs by disk latency p95 (worst window)", "ns",
        [(f'SELECT max("latency_p95_ns") AS "p95" FROM "vmtrace_disk" WHERE {H} AND $timeFilter GROUP BY "host", "vm", "layer"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("p95"), thresholds=GREEN, links=to_vm())
b.panel("bargauge", "VMs by network bytes (received + sent)", "decbytes",
        [(f'SELECT sum("rx_bytes") + sum("tx_bytes") AS "bytes" FROM "vmtrace_net" WHERE {H} AND $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("bytes"), thresholds=GREEN, links=to_vm())
b.panel("bargauge", "Hosts by preempted vCPU time", "ns",
        [(f'SELECT sum("preempted_ns") AS "preempted" FROM "vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY "host"', None)],
        w=8, h=9, options=BAR, fmt="table", transformations=ranked("preempted"), thresholds=GREEN, links=to_host())
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
b.links(("vmtrace-fleet", "Fleet overview"), ("vmtrace-interference", "Interference"))
episode_annotation(b, f"{H} AND {V}")
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
b.panel("state-timeline", "Workload class", "string",
        [(f'SELECT last("class") AS "class" FROM "vmtrace_workload" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=24, h=4, interval="1s", thresholds=[{"color": "transparent", "value": None}],
        options={"showValue": "auto", "mergeValues": True, "rowHeight": 0.8},
        description="What the VM did in each window: idle, cpu, disk, net, or mixed (no class clearly nearest), by the shipped "
                    "nearest-centroid model (docs/metrics.md, Workload classes).")
WAIT_CAUSES = ", ".join(f'sum("wait_{c}_ns") AS "{c}"' for c in ["timer", "disk", "net", "vcpu", "host", "unknown"])
b.panel("timeseries", "Why the vCPUs waited (blocked time by what ended it)", "ns",
        [(f'SELECT {WAIT_CAUSES} FROM "vmtrace_vm_wait" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=12, h=8, interval="1s", stacked=True, options=LEGEND_TABLE,
        description="The vCPUs' blocked time, counted when each wait ended, by what woke them: a timer, the disk, the network, another "
                    "vCPU of the VM, another host process, or unknown (docs/metrics.md, Wait causes).")
b.panel("table", "Wait causes per vCPU", "ns",
        [(f'SELECT {WAIT_CAUSES} FROM "vmtrace_vcpu_wait" WHERE {H} AND {V} AND $timeFilter GROUP BY "vcpu"', None)],
        w=12, h=8, fmt="table", thresholds=GREEN,
        description="Each vCPU's blocked time over the range by what ended its waits.")
b.panel("timeseries", "Guest mode at entry (kernel / user)", "suffix: vCPU",
        [(f'SELECT sum("guest_kernel_ns") {FRACTION} AS "guest kernel", sum("guest_user_ns") {FRACTION} AS "guest user" '
          f'FROM "vmtrace_vm_guest" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval) fill(none)', None)],
        w=12, h=8, interval="1s", stacked=True, options=LEGEND_TABLE,
        description="vCPUs' worth of guest time by the guest's mode when it was entered (the guest RIP of kvm_entry, else of the previous "
                    "kvm_exit: upper half kernel, lower half user). Runs that exited in the other mode are counted per vCPU below "
                    "(docs/metrics.md, Guest address spaces and modes).")
b.panel("table", "Guest mode per vCPU", "ns",
        [(f'SELECT sum("guest_kernel_ns") AS "kernel", sum("guest_user_ns") AS "user", sum("guest_runs") AS "runs", '
          f'sum("guest_crossed_runs") AS "runs that changed mode" FROM "vmtrace_vcpu_guest" WHERE {H} AND {V} AND $timeFilter GROUP BY "vcpu"', None)],
        w=12, h=8, fmt="table", thresholds=GREEN,
        description="Each vCPU's guest time by mode at entry over the range, its runs with the RIP known at both ends, and those that "
                    "changed mode (where the split by entry mode is unsure).")
b.panel("timeseries", "Guest address spaces (CR3)", "suffix: vCPU",
        [(f'SELECT sum("guest_ns") {FRACTION} FROM "vmtrace_guest_space" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "cr3" fill(none)', "$tag_cr3")],
        w=24, h=8, interval="1s", stacked=True, options=LEGEND_TABLE,
        description="vCPUs' worth of guest time by the guest CR3 it was entered with (the research kernel's addons_vcpu_enter_guest): the "
                    "top 8 per window, other, and unknown (no such event: every stock kernel).")
b.panel("timeseries", "VM exits by reason (rate)", "ops",
        [(f'SELECT sum("count") {PER_S} FROM "vmtrace_exit" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "reason", "isa", "reason_name" fill(none)', "$tag_reason_name ($tag_isa $tag_reason)")],
        w=12, interval="1s", options=LEGEND_TABLE, links=to_vm("${host}", "${vm}")[1:], description="Reason numbers are the tracer's exit_reason, named in the table of the host's ISA (vmx: 12 HLT, 48 EPT_VIOLATION; svm: 120 = 0x78 HLT, 1024 = 0x400 NPF); no name when the trace does not say its ISA.")
b.panel("timeseries", "VM exit handling latency p50 / p95 / p99", "ns",
        [(f'SELECT max("latency_p50_ns") AS "p50", max("latency_p95_ns") AS "p95", max("latency_p99_ns") AS "p99" FROM "vmtrace_exit" WHERE {H} AND {V} AND $timeFilter GROUP BY time($__interval), "reason", "isa", "reason_name" fill(none)', "$tag_reason_name ($tag_isa $tag_reason) $col")],
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

# ---------------------------------------------------------------- exits (perf kvm stat report shape)
b = Board("vmtrace-exits", "vmtrace / VM exits",
          "VM exits of one host's VMs by reason, as perf kvm stat reports them: samples, samples %, time %, min / max / mean handling "
          "latency (kvm_exit → the thread's next kvm_entry), and their rate and latency over time.",
          [HOST1, VM], tags=["exits"])
b.links(("vmtrace-fleet", "Fleet overview"), ("vmtrace-vm", "VM detail"))
XV = f'FROM "vmtrace_exit" WHERE {H} AND {V} AND $timeFilter'
b.panel("table", "Exits by reason (perf kvm stat)", "ns",
        [(f'SELECT sum("count") AS "samples", sum("latency_sum_ns") AS "time", min("latency_min_ns") AS "min", max("latency_max_ns") AS "max", '
          f'sum("latency_sum_ns") / sum("count") AS "avg", max("latency_p99_ns") AS "worst p99" {XV} GROUP BY "vm", "reason_name", "reason", "isa"', None)],
        w=24, h=10, fmt="table", thresholds=GREEN, links=to_vm("${host}")[:1],
        transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True},
                                                        "indexByName": {"vm": 0, "reason_name": 1, "reason": 2, "isa": 3, "samples": 4}}},
                         {"id": "sortBy", "options": {"fields": {}, "sort": [{"field": "samples", "desc": True}]}}],
        description="One row per VM and exit reason (by name; the number and ISA beside it), most samples first. time: handling time summed; "
                    "min / max: over the range; avg: time / samples; worst p99: the highest per-window p99. Samples % and time % are the pie charts below.")
b.d["panels"][-1]["fieldConfig"]["overrides"] = [{"matcher": {"id": "byName", "options": "samples"}, "properties": [{"id": "unit", "value": "short"}]}]
PIE = {"reduceOptions": {"calcs": ["sum"], "fields": "", "values": False}, "pieType": "donut", "displayLabels": ["percent"],
       "legend": {"displayMode": "table", "placement": "right", "values": ["value", "percent"], "showLegend": True},
       "tooltip": {"mode": "single", "sort": "desc"}}
b.panel("piechart", "Samples % by reason", "short",
        [(f'SELECT sum("count") {XV} GROUP BY "reason_name", "reason"', "$tag_reason_name ($tag_reason)")],
        w=12, h=9, options=PIE, description="Each reason's share of all exits of the selected VMs (perf kvm stat's Samples%).")
b.panel("piechart", "Time % by reason", "ns",
        [(f'SELECT sum("latency_sum_ns") {XV} GROUP BY "reason_name", "reason"', "$tag_reason_name ($tag_reason)")],
        w=12, h=9, options=PIE, description="Each reason's share of all exit handling time of the selected VMs (perf kvm stat's Time%).")
b.panel("timeseries", "Exits per second by reason", "ops",
        [(f'SELECT sum("count") {PER_S} {XV} GROUP BY time($__interval), "vm", "reason_name", "reason" fill(none)', "$tag_reason_name ($tag_reason) $tag_vm")],
        w=12, interval="1s", options=LEGEND_TABLE, description="Each interval's exits divided by its length in seconds.")
b.panel("timeseries", "Mean handling latency by reason", "ns",
        [(f'SELECT sum("latency_sum_ns") / sum("count") {XV} GROUP BY time($__interval), "vm", "reason_name", "reason" fill(none)', "$tag_reason_name ($tag_reason) $tag_vm")],
        w=12, interval="1s", options=LEGEND_TABLE)
b.write("exits.json")

# ---------------------------------------------------------------- interference
b = Board("vmtrace-interference", "vmtrace / Interference",
          "VMs ranked by their time in interference episodes over the range, fleet-wide (host: All) or on the chosen hosts, with the "
          "episodes' main culprits and resources; preempted vCPU time by VM and culprit (another VM, the same VM, a host process, idle), "
          "and the noisiest neighbours per host.",
          [HOST], tags=["interference"])
b.links(("vmtrace-fleet", "Fleet overview"))
episode_annotation(b, H)
EPISODE = f'FROM "vmtrace_episode" WHERE {H} AND $timeFilter'
b.panel("bargauge", "VMs by time in interference episodes", "ns",
        [(f'SELECT sum("duration_ns") AS "in episodes" {EPISODE} GROUP BY "host", "vm"', None)],
        w=8, h=10, options=BAR, fmt="table", transformations=ranked("in episodes"), thresholds=GREEN, links=to_vm(),
        description="Time each VM spent in interference episodes (sum of their duration_ns) over the range, longest first: "
                    "fleet-wide with host = All.")
b.panel("table", "Episodes per VM: count and severity", "short",
        [(f'SELECT sum("duration_ns") AS "in episodes", count("severity") AS "episodes", max("severity") AS "worst severity", '
          f'mean("severity") AS "mean severity" {EPISODE} GROUP BY "host", "vm"', None)],
        w=8, h=10, fmt="table", thresholds=GREEN, links=to_vm(), transformations=ranked("in episodes"),
        description="Per VM: time in episodes, how many, and their worst and mean severity (the fraction of the wanted time lost).")
b.d["panels"][-1]["fieldConfig"]["overrides"] = [
    {"matcher": {"id": "byName", "options": "in episodes"}, "properties": [{"id": "unit", "value": "ns"}]},
    *({"matcher": {"id": "byName", "options": n}, "properties": [{"id": "unit", "value": "percentunit"}]} for n in ("worst severity", "mean severity"))]
b.panel("table", "Main culprits of each VM's episodes", "ns",
        [(f'SELECT top("total", "culprit", 3) AS "in episodes" FROM (SELECT sum("duration_ns") AS "total" {EPISODE} '
          f'GROUP BY "host", "vm", "culprit") WHERE $timeFilter GROUP BY "host", "vm"', None)],
        w=8, h=10, fmt="table", thresholds=GREEN, transformations=ranked("in episodes"),
        description="Per VM, the three culprits whose episodes (each counted under its largest culprit) lasted longest.")
b.panel("table", "Time in episodes by resource", "ns",
        [(f'SELECT sum("duration_ns") AS "in episodes", count("severity") AS "episodes" {EPISODE} GROUP BY "host", "vm", "resource"', None)],
        w=24, h=8, fmt="table", thresholds=GREEN, transformations=ranked("in episodes"),
        description="Per VM and resource (cpu: CPU time lost to others; exits: an exit storm): time in episodes and how many.")
b.d["panels"][-1]["fieldConfig"]["overrides"] = [{"matcher": {"id": "byName", "options": "episodes"}, "properties": [{"id": "unit", "value": "short"}]}]
b.panel("table", "Preempted time matrix: VM × culprit", "ns",
        [(f'SELECT sum("preempted_ns") AS "preempted" FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY "vm", "culprit"', None)],
        w=24, h=10, fmt="table",
        transformations=[{"id": "groupingToMatrix", "options": {"rowField": "vm", "columnField": "culprit", "valueField": "preempted"}}],
        custom={"cellOptions": {"type": "color-background", "mode": "gradient"}, "align": "auto"},
        thresholds=[{"color": "transparent", "value": None}, {"color": "#ff9830", "value": 1e8}, {"color": "#f2495c", "value": 1e9}])
b.panel("table", "Top noisy neighbours per host", "ns",
        [(f'SELECT top("total", "culprit", 10) AS "preempted others" FROM (SELECT sum("preempted_ns") AS "total" FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY "host", "culprit") WHERE $timeFilter GROUP BY "host"', None)],
        w=12, h=10, fmt="table", thresholds=GREEN, transformations=ranked("preempted others"))
b.panel("timeseries", "Preempted time by culprit", "percentunit",
        [(f'SELECT sum("preempted_ns") {FRACTION} FROM "vmtrace_interference" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "culprit" fill(none)', "$tag_host: $tag_culprit")],
        w=12, h=10, interval="1s", stacked=True, options=LEGEND_TABLE)
b.panel("table", "Interference episodes (worst first)", "percentunit",
        [(f'SELECT "severity", "duration_ns", "culprit_kind", "culprit_share", "advice" FROM "vmtrace_episode" WHERE {H} AND $timeFilter GROUP BY "vm", "resource", "culprit"', None)],
        w=24, h=10, fmt="table", thresholds=[{"color": "green", "value": None}, {"color": "#ff9830", "value": 0.1}, {"color": "#f2495c", "value": 0.3}],
        description="One row per episode (docs/metrics.md, Interference episodes): a run of windows in which the VM lost time it wanted; severity = the fraction lost.",
        transformations=[{"id": "sortBy", "options": {"sort": [{"field": "severity", "desc": True}]}}])
b.write("interference.json")

# ---------------------------------------------------------------- capacity planning
b = Board("vmtrace-capacity", "vmtrace / Capacity planning",
          "From the rollup retention policies (rollup_1h: 3 years, rollup_1m: 90 days): pCPU demand per VM and per host, p95 of preemption, headroom and its projection.",
          [HOST], time_from="now-90d", tags=["capacity"])
b.links(("vmtrace-fleet", "Fleet overview"))
b.panel("timeseries", "pCPU demand per VM (hourly rollup)", "percentunit",
        [(f'SELECT mean("mean_pcpu_share") FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm" fill(none)', "$tag_host / $tag_vm")],
        w=12, interval="1h", options=LEGEND_TABLE)
b.panel("timeseries", "pCPU demand per host (hourly rollup)", "percentunit",
        [(f'SELECT sum("share") FROM (SELECT mean("mean_pcpu_share") AS "share" FROM "rollup_1h"."vmtrace_vm" WHERE {H} AND $timeFilter GROUP BY time($__interval), "host", "vm") WHERE $timeFilter GROUP BY time($__interval), "host" fill(none)', "$tag_host")],
        w=12, interval="1h", options=LEGEND_TABLE)
b.panel("timeseries", "Preemption p95 per VM (of the minute rollups)", "suffix: vCPU",
        [(f'SELECT percentile("vcpus", 95) FROM (SELECT "sum_preempted_ns"::float / "sum_window_ns"::float AS "vcpus" FROM "rollup_1m"."vmtrace_vm" WHERE {H} AND $timeFilter) WHERE $timeFilter GROUP BY time($__interval), "host", "vm" fill(none)', "$tag_host / $tag_vm")],
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
        w=12, h=5, options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none"}, thresholds=GREEN)
b.panel("stat", "Checkpoint size", "decbytes",
        [(f'SELECT last("checkpoint_bytes") FROM "pipeline_health" WHERE {I} AND $timeFilter GROUP BY "instance"', "$tag_instance")],
        w=12, h=5, options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none"}, thresholds=GREEN)
b.write("pipeline-health.json")
