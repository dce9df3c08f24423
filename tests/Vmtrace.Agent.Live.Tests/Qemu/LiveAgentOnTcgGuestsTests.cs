using System.Globalization;
using System.Text;
using Vmtrace.Agent.Live.Discovery;
using Vmtrace.Agent.Live.QemuLog;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;
using Xunit.Abstractions;
using static Vmtrace.Agent.Live.Tests.Qemu.SchedstatOnBoundary;

namespace Vmtrace.Agent.Live.Tests.Qemu;

/// <summary>
/// The live agent on real QEMU/TCG guests of this machine, checked against the kernel's own per-thread
/// accounting. Three guests (web: 2 vCPUs busy, db: 1 vCPU disk, edge: 1 vCPU network) = 4 vCPU threads
/// plus qemu's I/O threads on this machine's CPUs, so they interfere. The tracefs source feeds the
/// analysis while they run; at two instants (on 100 ms window boundaries, marked in the trace) every
/// qemu thread's /proc/PID/task/TID/schedstat is read.
/// <para>Bounds: on-CPU time summed over all qemu threads, and each VM's (CPU-bound and I/O), within 1 %; each VM's vCPU
/// run-queue wait within 5 %. Both need the kernel's books, not the switch events' times: after a wake-up preemption
/// the kernel does not update its run-queue clock at the switch (rq_clock_skip_update), so it ends the preempted
/// thread's run, and starts its wait, at the clock of the wake-up, and starts the woken thread's run there. From the
/// switch events alone, on-CPU time missed the 1 % in about half the runs (a CPU-bound VM +0.4…+2.6 %, a disk VM
/// −2…−10 %) and the CPU-bound VM's wait missed the 5 % on a quiet machine (−5.00 % in CI at load 2.6: each of its
/// vCPUs had ~55 ms of wait counted as run). The tracefs source therefore records sched_stat_runtime, the run time
/// the kernel charges: the analysis takes threads' on-CPU time from it and places each switch where the kernel's
/// clock stood (docs/live-agent.md). What is left is schedstat's lag of at most a tick for a thread on a CPU when it
/// is read, at both instants, and the switches the trace lacks (inferred): measured at most +1.9 % for the wait.
/// The wait compared is the kernel's run_delay, which also counts the sleep of a vCPU moved while still queued
/// (delayed dequeue): CI once found the disk VM's wait −23.9 % short of it without that term
/// (<see cref="QueuedSleepVsSchedstatTests"/>).</para>
/// </summary>
[Collection(nameof(LiveAgentOnTcgGuestsTests))]
public sealed class LiveAgentOnTcgGuestsTests(ITestOutputHelper output)
{
    private const long WindowNs = 100_000_000;

    // In the default run (scripts/test.sh, CI): root, tracefs and qemu-system-x86 are required there
    // (scripts/install-deps.sh installs qemu and builds the guest); elsewhere it says it did not run.
    [QemuFact]
    [Trait("Category", "LiveQemu")]
    public void Agent_ThreeTcgGuests_MatchesSchedstatBetweenMarkers()
    {
        using var lab = new TcgLab();
        lab.StartNetwork(blobMiB: 2);
        var options = new TracefsOptions { InstanceName = "vmtrace-livetest-" + Environment.ProcessId, BufferSizeKb = 16384 };
        using var tracefs = TracefsEventSource.Start(options);
        // qemu's own trace logs, followed from before qemu creates them, merged with the kernel events.
        using var source = new LiveMergedSource([tracefs, .. new[] { "web", "db", "edge" }.Select(n =>
            new QemuLogFollower(Path.Combine(lab.Work, $"qemu-{n}.log"), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(20), tracefs.NowRealtime))],
            TimeSpan.FromMilliseconds(20));
        var live = new LiveAnalysisThread(source, new HostAnalysis(new AnalysisOptions { WindowNs = WindowNs, CpuCount = source.CpuCount }), WindowNs);

        // Each guest runs its workload for this long from its own start; on a loaded 2-CPU host (load 40 measured)
        // the TCG guests boot up to tens of seconds apart, and both instants must fall while all three run.
        const int duration = 30;
        lab.Launch("web", 2, "cpu", duration);
        // The I/O guests pause 1 s between rounds, as in every run recorded in docs/live-agent.md.
        lab.Launch("db", 1, "disk", duration, "vmtrace_pause=1");
        lab.Launch("edge", 1, "net", duration, "vmtrace_ip=10.77.0.2/24 vmtrace_peer=10.77.0.1 vmtrace_mib=1 vmtrace_pause=1");
        var scanner = new QemuProcessScanner();
        var pids = lab.Vms.Select(TcgLab.QemuPid).ToHashSet();
        Thread.Sleep(300);
        foreach (var vm in scanner.Scan().Where(v => pids.Contains(v.Pid)))
            live.AddInventory(vm.ToInventory());

        lab.WaitForWorkloads(TimeSpan.FromSeconds(240));
        var discovered = scanner.Scan().Where(v => pids.Contains(v.Pid)).ToList();
        foreach (var vm in discovered)
            live.AddInventory(vm.ToInventory());
        Assert.Equal(["db", "edge", "web"], discovered.Select(v => v.Name).Order().ToArray());
        Assert.Equal(["tap0"], discovered.Single(v => v.Name == "edge").TapDevices);

        var (t1, s1, read1) = SchedstatOnBoundary.Take(tracefs, pids, "t1", WindowNs);
        Thread.Sleep(TimeSpan.FromSeconds(8));
        var (t2, s2, read2) = SchedstatOnBoundary.Take(tracefs, pids, "t2", WindowNs);
        // The guests interfered between the instants: none had ended its workload (else the boot skew ate the overlap).
        var ended = lab.Vms.Where(v => v.Process.HasExited || File.ReadAllText(v.SerialLog).Contains("VMTRACE_WL end", StringComparison.Ordinal)).Select(v => v.Name).ToList();
        Assert.True(ended.Count == 0, $"workload of {string.Join(", ", ended)} ended before the second instant");
        output.WriteLine($"instants {t1} → {t2} ({(t2 - t1) / 1e9:F1} s); schedstat read in {read1 / 1e3:F0} µs and {read2 / 1e3:F0} µs");

        lab.WaitForPowerOff(TimeSpan.FromSeconds(90));
        var windows = live.StopAndFlush();
        var analysis = live.Analysis;
        long events = live.Events;
        var diagnostics = source.InputDiagnostics();
        output.WriteLine($"{events} events, diagnostics: lost {diagnostics.LostEvents}, errors {diagnostics.ErrorCount}, out of order {diagnostics.OutOfOrderEvents}");
        Assert.True(diagnostics.LostEvents == 0 && diagnostics.ErrorCount == 0, $"lost {diagnostics.LostEvents} events, {diagnostics.ErrorCount} errors: {string.Join("; ", diagnostics.Errors.Take(3).Select(e => e.Message))}");
        var tap = lab.TapCounters();

        var between = windows.Where(w => w.StartNs >= t1 && w.EndNs <= t2).ToList();
        Assert.Equal((t2 - t1) / WindowNs, between.Count);
        var byVm = between.SelectMany(w => w.Vms).GroupBy(v => v.Vm).ToDictionary(g => g.Key, g => g.ToList());
        // Every VM under its -name, from the inventory: no Trace Compass-style or fallback names.
        Assert.Equal(["db", "edge", "web"], byVm.Keys.Order().ToArray());
        Assert.All(byVm.Values.SelectMany(v => v), v => Assert.Equal("inventory", v.Origin));

        var report = new StringBuilder();
        long traceTotal = 0, kernelTotal = 0;
        // Per VM: all its threads' on-CPU time, and its vCPUs' run-queue wait in the kernel's books (runnable time, plus the
        // sleep it counts as waiting after moving a still-queued vCPU), with the waits in progress at the samples moved
        // to the side of them where schedstat counts them (it adds a wait when the wait ends).
        (long Run, long OnCpu, long Wait, long TraceWait, long QueuedAsleep, long InProgress1, long InProgress2) Figures(TcgVm vm)
        {
            int pid = TcgLab.QemuPid(vm);
            var threads = s2.Values.Where(t => t.Pid == pid).ToList();
            long run = threads.Sum(t => t.RunNs - (s1.TryGetValue(t.Tid, out var a) ? a.RunNs : 0));
            var vcpus = threads.Where(t => QemuProcessScanner.VcpuIndex(t.Comm) >= 0).ToList();
            long wait = vcpus.Sum(t => t.WaitNs - (s1.TryGetValue(t.Tid, out var a) ? a.WaitNs : 0));
            long inProgress1 = vcpus.Sum(t => live.WaitInProgress(t1, t.Tid)), inProgress2 = vcpus.Sum(t => live.WaitInProgress(t2, t.Tid));
            long runDelay = byVm[vm.Name].Sum(v => v.VcpuTimes.RunDelayNs);
            return (run, byVm[vm.Name].Sum(v => v.ThreadsOnCpuNs), wait, runDelay - inProgress2 + inProgress1,
                byVm[vm.Name].Sum(v => v.VcpuTimes.BlockedQueuedNs), inProgress1, inProgress2);
        }
        foreach (var vm in lab.Vms)
        {
            var f = Figures(vm);
            traceTotal += f.OnCpu;
            kernelTotal += f.Run;
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{vm.Name,-5} {vm.Workload,-4} on-CPU trace {f.OnCpu / 1e6,9:F1} ms schedstat {f.Run / 1e6,9:F1} ms ({Diff(f.OnCpu, f.Run),6:F2} %)  vCPU wait trace {f.TraceWait / 1e6,9:F1} ms schedstat {f.Wait / 1e6,9:F1} ms ({Diff(f.TraceWait, f.Wait),6:F2} %; asleep but queued {f.QueuedAsleep / 1e6:F1} ms, in progress at t1 {f.InProgress1 / 1e6:F1} at t2 {f.InProgress2 / 1e6:F1} ms)");
        }
        // Per vCPU thread: the kernel's run and wait against the trace's split, and the time the trace could not place.
        foreach (var vm in lab.Vms)
        {
            int pid = TcgLab.QemuPid(vm);
            foreach (var t in s2.Values.Where(t => t.Pid == pid && QemuProcessScanner.VcpuIndex(t.Comm) >= 0).OrderBy(t => t.Tid))
            {
                var a = s1.TryGetValue(t.Tid, out var x) ? x : default;
                var per = byVm[vm.Name].SelectMany(v => v.Vcpus).Where(v => v.Tid == t.Tid).Aggregate(new CpuTimes(0, 0, 0, 0, 0, 0), (acc, v) => acc.Add(v.Times));
                long placed = per.OnCpuNs + per.PreemptedNs + per.WaitNs + per.BlockedNs;
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"  {vm.Name,-5} {t.Comm,-10} tid {t.Tid}: run kernel {(t.RunNs - a.RunNs) / 1e6,8:F1} trace {per.OnCpuNs / 1e6,8:F1}; wait kernel {(t.WaitNs - a.WaitNs) / 1e6,8:F1} trace preempted {per.PreemptedNs / 1e6,8:F1} + woken {per.WaitNs / 1e6,7:F1} + asleep queued {per.BlockedQueuedNs / 1e6,6:F1} (in progress t1 {live.WaitInProgress(t1, t.Tid) / 1e6:F1}, t2 {live.WaitInProgress(t2, t.Tid) / 1e6:F1}); blocked {per.BlockedNs / 1e6,8:F1}; unplaced {(t2 - t1 - placed) / 1e6,7:F1} ms");
            }
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"inferred switches {analysis.Counters.InferredSwitches}, events {events}, out of order {diagnostics.OutOfOrderEvents}, late qemu lines {source.Diagnostics.OutOfOrderEvents}");
        report.AppendLine(CultureInfo.InvariantCulture, $"schedstat samples read in {read1 / 1e3:F0} µs and {read2 / 1e3:F0} µs; host load {File.ReadAllText("/proc/loadavg").Trim()}");
        report.AppendLine(CultureInfo.InvariantCulture, $"all qemu threads on-CPU trace {traceTotal / 1e6:F1} ms schedstat {kernelTotal / 1e6:F1} ms ({Diff(traceTotal, kernelTotal):F2} %)");
        output.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "vmtrace-live-schedstat.txt"), report.ToString());

        // Whole run, per VM process: disk requests as qemu's own log counts them; network bytes as the tap and the guest's transfers say.
        var wholeRun = windows.SelectMany(w => w.Vms).GroupBy(v => v.Pid).ToDictionary(g => g.Key, g => g.ToList());
        var db = lab.Vms.Single(v => v.Name == "db");
        var dbLog = File.ReadAllLines(db.QemuLog);
        long logSubmits = dbLog.Count(l => l.Contains(":thread_pool_submit ", StringComparison.Ordinal));
        long logCompletes = dbLog.Count(l => l.Contains(":thread_pool_complete ", StringComparison.Ordinal));
        long submitted = wholeRun[TcgLab.QemuPid(db)].Sum(v => v.QemuDisk.Submitted);
        long completed = wholeRun[TcgLab.QemuPid(db)].Sum(v => v.QemuDisk.Completed);
        var edge = lab.Vms.Single(v => v.Name == "edge");
        var net = wholeRun[TcgLab.QemuPid(edge)].Aggregate(NetworkMetrics.Empty, (a, v) => a.Merge(v.Network));
        int rounds = int.Parse(System.Text.RegularExpressions.Regex.Match(File.ReadAllText(edge.SerialLog), @"net rounds=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        long downloaded = rounds * lab.BlobBytes;
        long uploaded = long.Parse(File.ReadAllText(lab.SinkCountFile!), CultureInfo.InvariantCulture);
        string io = $"db: qemu log submits {logSubmits} completes {logCompletes}, analysis {submitted}/{completed}\n" +
            $"edge: analysis rx {net.RxBytes} B ({net.RxPackets} pkts) tx {net.TxBytes} B ({net.TxPackets} pkts); tap0 tx {tap.Tx} rx {tap.Rx}; guest downloaded {downloaded} B uploaded {uploaded} B";
        output.WriteLine(io);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "vmtrace-live-schedstat.txt"), io + "\n");
        Assert.True(logSubmits > 100, $"the disk guest did little I/O ({logSubmits} requests)");
        Assert.Equal(logSubmits, submitted);
        Assert.Equal(logCompletes, completed);
        // The tap's own counters: the host transmits on tap0 what the guest receives, and the reverse.
        Assert.InRange(Diff(net.RxBytes, tap.Tx), -1.0, 1.0);
        Assert.InRange(Diff(net.TxBytes, tap.Rx), -1.0, 1.0);
        // Payload vs frames: Ethernet+IP+TCP headers are 66 B per ≤1514 B frame (≈4.6 %), plus ARP/ICMP and
        // the HTTP request/response headers; the guest's transmit also carries the ACKs of its downloads.
        Assert.InRange(net.RxBytes, downloaded, downloaded * 1.08 + uploaded * 0.05 + 100_000);
        Assert.InRange(net.TxBytes, uploaded, uploaded * 1.08 + downloaded * 0.06 + 100_000);

        Assert.True(Math.Abs(Diff(traceTotal, kernelTotal)) <= 1.0, $"all qemu threads on-CPU trace {traceTotal} ns vs schedstat {kernelTotal} ns ({Diff(traceTotal, kernelTotal):F2} %)");
        CheckVm("web", 1.0, 5.0);
        CheckVm("db", 1.0, 5.0);
        CheckVm("edge", 1.0, 5.0);

        void CheckVm(string name, double onCpuPct, double waitPct)
        {
            var f = Figures(lab.Vms.Single(v => v.Name == name));
            Assert.True(Math.Abs(Diff(f.OnCpu, f.Run)) <= onCpuPct, $"{name} on-CPU trace {f.OnCpu} ns vs schedstat {f.Run} ns ({Diff(f.OnCpu, f.Run):F2} %)");
            Assert.True(Math.Abs(Diff(f.TraceWait, f.Wait)) <= waitPct, $"{name} vCPU wait trace {f.TraceWait} ns vs schedstat {f.Wait} ns ({Diff(f.TraceWait, f.Wait):F2} %)");
        }
    }
}

/// <summary>
/// Runs the QEMU test alone, after the other tests of this assembly: its guests fill the host's scheduler with
/// events, and the tracefs tests beside it (1 MiB buffers) would lose some.
/// </summary>
[CollectionDefinition(nameof(LiveAgentOnTcgGuestsTests), DisableParallelization = true)]
public sealed class LiveAgentOnTcgGuestsCollection;
