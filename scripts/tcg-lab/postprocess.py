#!/usr/bin/env python3
"""Post-processing for record-sample.sh.

  postprocess.py WORK SCENARIO T0 T1 CACHE   -> WORK/vmmap.json, WORK/event-counts.txt
  postprocess.py --readme WORK OUT           -> README.md for the sample (stdout)

WORK holds the recorder's raw files: vms.txt ("name pid smp workload dur tap|- launched_realtime start_delay_s"),
hogs.txt ("start|stop pid realtime" of the host busy loops),
threads.txt ("realtime pid tid comm" samples of /proc/PID/task/*/comm), cmdline-PID.txt,
trace-report.txt (`trace-cmd report`), trace-stat.txt (`trace-cmd report --stat`),
qemu-NAME.log (qemu log backend), serial-NAME.log, host-info.txt.
vmmap.json follows the layout of the shared tcg-qemu traces' vmmap.json.
"""
import collections
import json
import os
import re
import sys
import time

LINE = re.compile(r"^\s*(.*)-(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):\s+([\w:]+):\s*(.*)$")
FORK = re.compile(r"comm=(.*) pid=(\d+) child_comm=(.*) child_pid=(\d+)")
SWITCH = re.compile(r"^(.*):(-?\d+) \[(-?\d+)\] (\S+) ==> (.*):(-?\d+) \[(-?\d+)\]")
RUNTIME = re.compile(r"comm=(.*) pid=(\d+) runtime=(\d+)")
RENAME = re.compile(r"pid=(\d+) oldcomm=(.*) newcomm=(.*) oom_score_adj")
QLOG = re.compile(r"^(\d+)@(\d+\.\d+):(\w+)")


def host_info(w):
    info = {}
    with open(os.path.join(w, "host-info.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(": ")
            info[k.rstrip(":")] = v
    return info


def build(w, scenario, t0, t1, cache):
    info = host_info(w)
    vms = []
    with open(os.path.join(w, "vms.txt")) as f:
        for line in f:
            name, pid, smp, wl, dur, tap, launched, *delay = line.split()
            vms.append(dict(name=name, pid=int(pid), smp=int(smp), workload=wl,
                            guest_workload_seconds=int(dur), launched_realtime=float(launched),
                            start_delay_s=float(delay[0]) if delay else 0.0,
                            launched_after_start_s=round(float(launched) - t0, 3),
                            netns_tap=None if tap == "-" else tap))
    hogs = {}
    try:
        with open(os.path.join(w, "hogs.txt")) as f:
            for line in f:
                what, pid, ts = line.split()
                h = hogs.setdefault(int(pid), dict(comm="vmtrace-hog", pid=int(pid), what="host busy loop (sh: while :; do :; done)"))
                h["%sed_realtime" % ("start" if what == "start" else "stopp")] = float(ts)
                h["%sed_after_start_s" % ("start" if what == "start" else "stopp")] = round(float(ts) - t0, 3)
    except OSError:
        pass
    # threads sampled from /proc while the VMs ran
    seen = collections.defaultdict(dict)
    with open(os.path.join(w, "threads.txt")) as f:
        for line in f:
            ts, pid, tid, comm = line.rstrip("\n").split(" ", 3)
            ts, pid, tid = float(ts), int(pid), int(tid)
            t = seen[pid].setdefault(tid, dict(tid=tid, comms=[], first_seen=ts, last_seen=ts))
            if not t["comms"] or t["comms"][-1] != comm:
                t["comms"].append(comm)
            t["last_seen"] = ts
    # the trace: counts, markers, and threads forked by each qemu (in case sampling missed one)
    counts = collections.Counter()
    markers = []
    first = last = None
    tid2vm = {vm["pid"]: vm["name"] for vm in vms}
    names = collections.defaultdict(list)
    # switches away from / into the idle tasks and the host agent's threads (see README: some never show)
    sw = collections.Counter()
    # CPU time (sched_stat_runtime) of host processes between the scenario's start and end, by comm
    host_cpu = collections.Counter()
    with open(os.path.join(w, "trace-report.txt"), errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ev, ts, rest = m.group(5), float(m.group(4)), m.group(6)
            counts[ev] += 1
            first = ts if first is None else first
            last = ts
            if ev == "sched_stat_runtime" and t0 <= ts <= t1:
                s = RUNTIME.search(rest)
                if s and int(s.group(2)) not in tid2vm:
                    host_cpu[s.group(1)] += int(s.group(3))
            if ev == "sched_switch":
                s = SWITCH.match(rest)
                if s:
                    for side, comm in (("from", s.group(1)), ("into", s.group(5))):
                        if comm.startswith("swapper/") or comm == "tokio-rt-worker":
                            sw["%s %s" % (side, comm)] += 1
            elif ev == "sched_process_fork":
                s = FORK.search(rest)
                if s and int(s.group(2)) in tid2vm:
                    tid2vm[int(s.group(4))] = tid2vm[int(s.group(2))]
                    names[int(s.group(4))].append(s.group(3))
            elif ev == "task_rename":
                s = RENAME.search(rest)
                if s and int(s.group(1)) in tid2vm:
                    names[int(s.group(1))].append(s.group(3))
            elif ev == "print" and "vmtrace_marker" in rest:
                markers.append(re.sub(r"\s+", " ", line.strip()))
    total = sum(counts.values())

    def clean(cmd):
        cmd = cmd.strip().replace(cache, "CACHE").replace(w, "WORK")
        return re.sub(r"/var/tmp/vmtrace-rec\.\w+", "WORK", cmd)

    qcounts = {}
    for vm in vms:
        threads = seen.get(vm["pid"], {})
        for tid, name in tid2vm.items():
            if name == vm["name"] and tid not in threads:
                nm = names.get(tid) or ["qemu-system-x86"]
                threads[tid] = dict(tid=tid, comms=nm, source="trace fork/rename only")
        vm["threads"] = sorted(threads.values(), key=lambda t: t["tid"])
        for t in vm["threads"]:
            t["comm"] = t["comms"][-1]
        try:
            with open(os.path.join(w, "cmdline-%d.txt" % vm["pid"])) as f:
                vm["cmdline"] = clean(f.read())
        except OSError:
            vm["cmdline"] = None
        vm["qemu_log"] = "qemu-%s.log.xz" % vm["name"]
        vm["serial_log"] = "serial-%s.log" % vm["name"]
        try:
            with open(os.path.join(w, "serial-%s.log" % vm["name"]), errors="replace") as f:
                vm["guest_markers"] = re.findall(r"VMTRACE_WL[^\r\n]*", f.read())
        except OSError:
            vm["guest_markers"] = []
        c = collections.Counter()
        bytid = collections.Counter()
        tid2comm = {t["tid"]: t["comm"] for t in vm["threads"]}
        try:
            with open(os.path.join(w, "qemu-%s.log" % vm["name"]), errors="replace") as f:
                for line in f:
                    m = QLOG.match(line)
                    if m:
                        c[m.group(3)] += 1
                        bytid["%s tid=%s (%s)" % (m.group(3), m.group(1), tid2comm.get(int(m.group(1)), "?"))] += 1
        except OSError:
            pass
        qcounts[vm["name"]] = dict(c.most_common())
        vm["qemu_log_events_by_thread"] = dict(bytid.most_common())

    overrun = dropped = None
    try:
        with open(os.path.join(w, "trace-stat.txt")) as f:
            stat = f.read()
        overrun = sum(int(x) for x in re.findall(r"^overrun: (\d+)", stat, re.M))
        dropped = sum(int(x) for x in re.findall(r"^dropped events: (\d+)", stat, re.M))
    except OSError:
        pass
    meta = dict(
        scenario=scenario,
        host=dict(uname=os.uname().release, ncpu=os.cpu_count(), kvm=info.get("kvm") == "yes",
                  vhost_net=info.get("vhost_net") == "yes", qemu=info.get("qemu"),
                  trace_cmd=info.get("trace-cmd"), guest_kernel=info.get("guest_kernel")),
        wall_start_realtime=t0, wall_end_realtime=t1, wall_seconds=round(t1 - t0, 3),
        clocks=dict(
            trace_dat="trace-cmd -C tai; on this host CLOCK_TAI == CLOCK_REALTIME (offset 0), so "
                      "trace.dat/trace-report timestamps are UNIX epoch seconds",
            qemu_log="TID@SEC.USEC = gettimeofday() (CLOCK_REALTIME), TID = Linux thread id"),
        kernel_events=info.get("kevents", "").split(),
        qemu_events=info.get("qevents", "").split(),
        vms=vms,
        host_hogs=list(hogs.values()),
        trace_report_event_counts=dict(counts.most_common()),
        trace_report_events_total=total,
        trace_first_ts=first, trace_last_ts=last,
        qemu_log_event_counts=qcounts,
        markers=markers,
        switches_idle_and_agent=dict(sorted({**{k: 0 for k in ("from swapper/0", "from swapper/1", "into swapper/0",
                                                               "into swapper/1", "from tokio-rt-worker",
                                                               "into tokio-rt-worker")}, **sw}.items())),
        host_busy_before_start=info.get("host_busy_before_start"),
        host_processes_cpu_during_scenario=dict(
            note="on-CPU time (sched_stat_runtime) of processes other than the VMs' threads between scenario_start and "
                 "scenario_end, as % of wall x CPUs; includes the recorder (trace-cmd, record-sample.sh) and the host hog",
            busy_pct=round(100.0 * sum(host_cpu.values()) / 1e9 / max(t1 - t0, 1e-9) / (os.cpu_count() or 1), 2),
            top_comms_cpu_s={k: round(v / 1e9, 3) for k, v in host_cpu.most_common(10)}),
        ring_buffer_overrun=overrun, ring_buffer_dropped_events=dropped,
    )
    with open(os.path.join(w, "vmmap.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    with open(os.path.join(w, "event-counts.txt"), "w") as f:
        f.write("scenario %s  wall_seconds %.3f  trace-cmd events total %d  (%s; overrun=%s dropped=%s)\n"
                % (scenario, t1 - t0, total, info.get("host_busy_before_start"), overrun, dropped))
        f.write("host processes other than the VMs during the scenario: %.2f %% of the CPUs (%s)\n"
                % (meta["host_processes_cpu_during_scenario"]["busy_pct"],
                   ", ".join("%s %.3f s" % kv for kv in meta["host_processes_cpu_during_scenario"]["top_comms_cpu_s"].items())))
        for ev, n in counts.most_common():
            f.write("%9d %s\n" % (n, ev))
        for name, c in qcounts.items():
            f.write("qemu log %s: %s\n" % (name, ", ".join("%s=%d" % kv for kv in c.items()) or "(none)"))


def readme(w, out):
    with open(os.path.join(w, "vmmap.json")) as f:
        meta = json.load(f)
    info = host_info(w)
    sizes = {n: os.path.getsize(os.path.join(out, n)) for n in sorted(os.listdir(out))
             if os.path.isfile(os.path.join(out, n)) and n != "README.md"}
    p = print
    p("# %s: a real host trace of real QEMU/TCG virtual machines\n" % meta["scenario"])
    p("Recorded by this project (`scripts/tcg-lab/record-sample.sh`); free to redistribute with it.\n")
    p("## How it was recorded\n")
    p("As root, on %s UTC:\n" % time.strftime("%Y-%m-%d %H:%M", time.gmtime(meta["wall_start_realtime"])))
    if meta["scenario"].startswith("labelled/"):
        _, set_, name = meta["scenario"].split("/", 2)
        p("```sh\nscripts/tcg-lab/record-labelled.sh %s %s   # runs record-sample.sh samples/%s with the settings below\n```\n"
          % (set_, name, meta["scenario"]))
    else:
        p("```sh\nscripts/tcg-lab/record-sample.sh samples/%s\n```\n" % meta["scenario"])
    p("with VMS=%s%s, DUR=%s (default guest workload seconds), DISK_PAUSE=%s, NET_PAUSE=%s, NET_BLOB_MIB=%s, NET_UP_MIB=%s, NET_RATE=%s. "
      "The guest (kernel %s from Debian, busybox initramfs) is built by `scripts/tcg-lab/build-guest.sh`."
      % (info.get("vms"), (" HOG_AT/HOG_DUR/HOG_N: " + info["hog"]) if info.get("hog") else "", info.get("dur"), info.get("disk_pause"), info.get("net_pause"), info.get("net_blob_mib"),
         info.get("net_up_mib"), info.get("net_rate", "unlimited"), info.get("guest_kernel", "?").split()[0]))
    p("Each VM's qemu was launched at its delay after the scenario start (`vmtrace_marker scenario_start` in the trace), "
      "each `qemu-system-x86_64 -name VM,debug-threads=on -accel tcg,thread=multi`, "
      "so threads are named `qemu-system-x86` (main loop, tid = pid; also call_rcu), `CPU n/TCG` (one per vCPU) and "
      "`worker` (qemu's thread pool). Host tracing was system wide:\n")
    p("```sh\ntrace-cmd record -C tai -d --no-filter -b 20000 --file-version 6 %s -o trace.dat   # stopped with SIGINT\n```\n"
      % " ".join("-e " + e for e in meta["kernel_events"]))
    p("and qemu's own events came from its `log` trace backend "
      "(`-trace events=FILE -D qemu-VM.log -msg timestamp=on`): %s.\n" % ", ".join(meta["qemu_events"]))
    p("## Host\n")
    p("- kernel %s, %d CPUs; %s; trace-cmd %s" % (meta["host"]["uname"], meta["host"]["ncpu"],
                                               info.get("qemu"), info.get("trace-cmd", "").replace("version ", "")))
    p("- no /dev/kvm: QEMU runs its guests with TCG, one host thread per vCPU, so there are no `kvm:*` events "
      "(KVM exits are not in this sample)" if not meta["host"]["kvm"] else
      "- /dev/kvm present but not used: QEMU ran its guests with `-accel tcg` (one host thread per vCPU), so no `kvm:*` "
      "event fired although they were enabled")
    p("- no /dev/vhost-net: the tap is used without vhost (packets are handled by the qemu main thread)"
      if not meta["host"]["vhost_net"] else "- /dev/vhost-net present")
    p("- clock `tai` equals CLOCK_REALTIME on this host, so trace timestamps are UNIX epoch seconds, "
      "the same clock as the qemu log lines (`TID@SEC.USEC:event args`, gettimeofday)")
    swc = meta.get("switches_idle_and_agent", {})
    p("- tracepoints never fire in the task context of CPU 1's idle task and of the host's management agent "
      "threads (`tokio-rt-worker`): every `swapper/1 ==> X` switch, and every switch away from those threads, "
      "is missing; infer such switches from the next event on that CPU. In this trace: %s\n"
      % ", ".join("%s %s=%d" % (k.split()[0], k.split()[1], v) for k, v in swc.items()))
    p("## VMs\n")
    p("| name | pid | vCPUs | workload | launched (s after start; realtime) | workload s | threads (tid comm) |\n|---|---|---|---|---|---|---|")
    for vm in meta["vms"]:
        p("| %s | %d | %d | %s%s | %.3f; %.6f | %d | %s |" % (
            vm["name"], vm["pid"], vm["smp"], vm["workload"],
            " (%s in netns)" % vm["netns_tap"] if vm["netns_tap"] else "",
            vm["launched_after_start_s"], vm["launched_realtime"], vm["guest_workload_seconds"],
            ", ".join("%d %s" % (t["tid"], t["comm"]) for t in vm["threads"])))
    p("\nWorkloads (`vmtrace_wl` on the guest kernel command line): cpu = a busy shell loop per vCPU; "
      "disk = 4 MiB `dd oflag=direct conv=fsync` writes and `iflag=direct` reads in 64 KiB blocks on a 32 MiB "
      "raw virtio-blk image (`aio=threads,cache=none`); net = `wget` of a blob from a busybox httpd and an `nc` "
      "upload to a TCP sink, both inside the recorder's network namespace; idle = `sleep`; mixed = a busy loop "
      "beside the disk rounds; ipi = two shells pinned to vCPUs 0 and 1 passing a token through two FIFOs.\n")
    for h in meta.get("host_hogs", []):
        p("- host hog: `%s` pid %d (%s), started %.3f s after the start (realtime %.6f), stopped %.3f s after it (realtime %.6f)"
          % (h["comm"], h["pid"], h["what"], h.get("started_after_start_s", -1), h.get("started_realtime", 0),
             h.get("stopped_after_start_s", -1), h.get("stopped_realtime", 0)))
    for vm in meta["vms"]:
        p("- %s console: %s" % (vm["name"], "; ".join(vm.get("guest_markers", []))))
    p("\n## Files\n")
    for n, s in sizes.items():
        p("- `%s` (%d bytes)" % (n, s))
    p("\n`trace.dat.xz`: trace-cmd file, format version 6, clock `tai` (`xz -dk trace.dat.xz; trace-cmd report trace.dat`). "
      "`vmmap.json`: per VM its pid, vCPUs, workload, qemu command line (paths shortened to CACHE/WORK), "
      "threads (tid, comm) sampled from /proc while it ran, plus event counts and the clocks. "
      "`event-counts.txt`: events per name from `trace-cmd report` and per qemu log. "
      "`trace-stat.txt`: `trace-cmd report --stat` (ring buffer overruns: %s). "
      "`serial-VM.log`: guest console.\n" % meta.get("ring_buffer_overrun"))
    p("## Event counts\n")
    p("```")
    with open(os.path.join(w, "event-counts.txt")) as f:
        p(f.read().rstrip())
    p("```")


if __name__ == "__main__":
    if sys.argv[1] == "--readme":
        readme(sys.argv[2], sys.argv[3])
    else:
        build(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
