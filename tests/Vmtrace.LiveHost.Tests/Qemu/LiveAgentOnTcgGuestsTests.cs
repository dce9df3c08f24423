using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Vmtrace.Agent.Live;
using Vmtrace.Agent.Live.Discovery;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;
using Xunit.Abstractions;

namespace Vmtrace.LiveHost.Tests.Qemu;

/// <summary>
/// The live agent on real QEMU/TCG guests of this machine, checked against the kernel's own per-thread
/// accounting. Three guests (web: 2 vCPUs busy, db: 1 vCPU disk, edge: 1 vCPU network) = 4 vCPU threads
/// plus qemu's I/O threads on this machine's CPUs, so they interfere. The tracefs source feeds the
/// analysis while they run; at two instants (on 100 ms window boundaries, marked in the trace) every
/// qemu thread's /proc/PID/task/TID/schedstat is read.
/// <para>Bounds: on-CPU time summed over all qemu threads, and the CPU-bound VM's, within 1 %; each VM's
/// vCPU run-queue wait within 5 % for the CPU-bound VM. I/O VMs' waits get 12 %: after a wake-up
/// preemption the kernel reuses an earlier run-queue clock value and charges the gap to the woken thread
/// (often a qemu I/O thread, the guest's vCPU of an I/O VM being woken by it) instead of the thread it
/// preempted, so schedstat's wait of a thread that wakes often is not what the scheduler events say —
/// measured on these machines up to ~8 % for a disk-heavy VM. schedstat itself lags by up to a tick for a
/// thread that is on a CPU when it is read (sum_exec_runtime is brought up to date at ticks and switches):
/// over 8 s that is a few tenths of a percent, inside the 1 %.</para>
/// </summary>
public sealed class LiveAgentOnTcgGuestsTests(ITestOutputHelper output)
{
    private const long WindowNs = 100_000_000;

    [QemuFact]
    public void Agent_ThreeTcgGuests_MatchesSchedstatBetweenMarkers()
    {
        using var lab = new TcgLab();
        lab.StartNetwork(blobMiB: 2);
        var options = new TracefsOptions { InstanceName = "vmtrace-livetest-" + Environment.ProcessId, BufferSizeKb = 16384 };
        using var source = TracefsEventSource.Start(options);
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = WindowNs, CpuCount = source.CpuCount });
        analysis.AddThreadNames(source.InitialThreadNames);
        var inventory = new ConcurrentQueue<VmInventory>();
        long events = 0;
        Exception? consumerError = null;
        var consumer = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    while (inventory.TryDequeue(out var inv))
                        analysis.AddInventory(inv);
                    var r = source.TryMoveNext(TimeSpan.FromMilliseconds(50));
                    if (r == LiveReadResult.End)
                        break;
                    if (r == LiveReadResult.Event)
                    {
                        analysis.OnEvent(source.Current);
                        events++;
                    }
                    else if (source.Watermark > long.MinValue)
                    {
                        analysis.AdvanceWatermark(source.Watermark);
                    }
                }
            }
            catch (Exception ex)
            {
                consumerError = ex;
            }
        }) { IsBackground = true, Name = "analysis" };
        consumer.Start();

        const int duration = 18;
        lab.Launch("web", 2, "cpu", duration);
        lab.Launch("db", 1, "disk", duration);
        lab.Launch("edge", 1, "net", duration, "vmtrace_ip=10.77.0.2/24 vmtrace_peer=10.77.0.1 vmtrace_mib=1");
        var scanner = new QemuProcessScanner();
        var pids = lab.Vms.Select(TcgLab.QemuPid).ToHashSet();
        Thread.Sleep(300);
        foreach (var vm in scanner.Scan().Where(v => pids.Contains(v.Pid)))
            inventory.Enqueue(vm.ToInventory());

        lab.WaitForWorkloads(TimeSpan.FromSeconds(60));
        var discovered = scanner.Scan().Where(v => pids.Contains(v.Pid)).ToList();
        foreach (var vm in discovered)
            inventory.Enqueue(vm.ToInventory());
        Assert.Equal(["db", "edge", "web"], discovered.Select(v => v.Name).Order().ToArray());
        Assert.Equal(["tap0"], discovered.Single(v => v.Name == "edge").TapDevices);

        var (t1, s1) = SampleOnBoundary(source, pids, "t1");
        Thread.Sleep(TimeSpan.FromSeconds(8));
        var (t2, s2) = SampleOnBoundary(source, pids, "t2");
        output.WriteLine($"instants {t1} → {t2} ({(t2 - t1) / 1e9:F1} s)");

        lab.WaitForPowerOff(TimeSpan.FromSeconds(90));
        source.RequestStop();
        Assert.True(consumer.Join(TimeSpan.FromSeconds(60)), "analysis thread did not finish");
        Assert.Null(consumerError);
        analysis.Flush(analysis.Now);
        var windows = analysis.TakeClosedWindows();
        output.WriteLine($"{events} events, diagnostics: lost {source.Diagnostics.LostEvents}, errors {source.Diagnostics.ErrorCount}, out of order {source.Diagnostics.OutOfOrderEvents}");
        Assert.True(source.Diagnostics.IsClean, $"lost {source.Diagnostics.LostEvents} events, {source.Diagnostics.ErrorCount} errors");

        var between = windows.Where(w => w.StartNs >= t1 && w.EndNs <= t2).ToList();
        Assert.Equal((t2 - t1) / WindowNs, between.Count);
        var byVm = between.SelectMany(w => w.Vms).GroupBy(v => v.Vm).ToDictionary(g => g.Key, g => g.ToList());
        // Every VM under its -name, from the inventory: no Trace Compass-style or fallback names.
        Assert.Equal(["db", "edge", "web"], byVm.Keys.Order().ToArray());
        Assert.All(byVm.Values.SelectMany(v => v), v => Assert.Equal("inventory", v.Origin));

        var report = new StringBuilder();
        long traceTotal = 0, kernelTotal = 0;
        foreach (var vm in lab.Vms)
        {
            int pid = TcgLab.QemuPid(vm);
            var threads = s2.Values.Where(t => t.Pid == pid).ToList();
            long run = threads.Sum(t => t.RunNs - (s1.TryGetValue(t.Tid, out var a) ? a.RunNs : 0));
            var vcpus = threads.Where(t => QemuProcessScanner.VcpuIndex(t.Comm) >= 0).ToList();
            long wait = vcpus.Sum(t => t.WaitNs - (s1.TryGetValue(t.Tid, out var a) ? a.WaitNs : 0));
            long onCpu = byVm[vm.Name].Sum(v => v.ThreadsOnCpuNs);
            long stolen = byVm[vm.Name].Sum(v => v.VcpuTimes.StolenNs);
            traceTotal += onCpu;
            kernelTotal += run;
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{vm.Name,-5} {vm.Workload,-4} on-CPU trace {onCpu / 1e6,9:F1} ms schedstat {run / 1e6,9:F1} ms ({Diff(onCpu, run),6:F2} %)  vCPU wait trace {stolen / 1e6,9:F1} ms schedstat {wait / 1e6,9:F1} ms ({Diff(stolen, wait),6:F2} %)");
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"all qemu threads on-CPU trace {traceTotal / 1e6:F1} ms schedstat {kernelTotal / 1e6:F1} ms ({Diff(traceTotal, kernelTotal):F2} %)");
        output.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "vmtrace-live-schedstat.txt"), report.ToString());

        Assert.InRange(Diff(traceTotal, kernelTotal), -1.0, 1.0);
        CheckVm("web", 1.0, 5.0);
        CheckVm("db", 1.0, 12.0);

        void CheckVm(string name, double onCpuPct, double waitPct)
        {
            var vm = lab.Vms.Single(v => v.Name == name);
            int pid = TcgLab.QemuPid(vm);
            var threads = s2.Values.Where(t => t.Pid == pid).ToList();
            long run = threads.Sum(t => t.RunNs - (s1.TryGetValue(t.Tid, out var a) ? a.RunNs : 0));
            long wait = threads.Where(t => QemuProcessScanner.VcpuIndex(t.Comm) >= 0).Sum(t => t.WaitNs - (s1.TryGetValue(t.Tid, out var a) ? a.WaitNs : 0));
            long onCpu = byVm[name].Sum(v => v.ThreadsOnCpuNs);
            long stolen = byVm[name].Sum(v => v.VcpuTimes.StolenNs);
            if (vm.Workload == "cpu")
                Assert.InRange(Diff(onCpu, run), -onCpuPct, onCpuPct);
            Assert.InRange(Diff(stolen, wait), -waitPct, waitPct);
        }
    }

    private static double Diff(long trace, long kernel) => kernel == 0 ? (trace == 0 ? 0 : 100) : 100.0 * (trace - kernel) / kernel;

    /// <summary>Waits for the next window boundary (realtime, the trace's time scale), reads schedstat, marks the trace.</summary>
    private static (long At, Dictionary<int, ThreadSchedstat> Sample) SampleOnBoundary(TracefsEventSource source, IEnumerable<int> pids, string label)
    {
        long now = source.NowRealtime();
        long boundary = (now / WindowNs + 2) * WindowNs;
        while (source.NowRealtime() < boundary - 2_000_000)
            Thread.Sleep(1);
        while (source.NowRealtime() < boundary)
        {
        }
        var sample = SchedstatSample.Read(pids);
        source.Mark($"vmtrace_schedstat {label} boundary={boundary}");
        return (boundary, sample);
    }
}
