using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;
using Xunit.Abstractions;
using static Vmtrace.Agent.Live.Tests.Qemu.SchedstatOnBoundary;

namespace Vmtrace.Agent.Live.Tests.Qemu;

/// <summary>
/// The kernel counts some sleep as run-queue wait, and the analysis says how much. With EEVDF's delayed dequeue
/// (Linux 6.12+), a thread that blocks while it has had more than its share stays queued until the scheduler next
/// picks it; if the kernel moves it to another CPU in that time (a balancer, an affinity change), its run_delay
/// clock starts at the move and runs, through the rest of its sleep, until it is next on a CPU. schedstat, delay
/// accounting and the steal time KVM reports to the guest all include that sleep. Found on this project's CI: a
/// disk VM's vCPU had 96 ms more wait in schedstat than the trace gave it (−23.9 %), all of it counted as blocked.
/// <para>Here a thread named like a TCG vCPU, in a process declared a VM, runs 4 ms and sleeps 100 ms while two
/// busy threads hold both CPUs and its affinity flips between CPU 0 and 1 every 5 ms, so the kernel moves it
/// while it is still queued many times. Its schedstat wait, read at two window boundaries, is checked against
/// the analysis's run-queue delay (preempted + wake-up wait + asleep but queued) within 5 %, as the QEMU test's
/// vCPU waits are; and the queued sleep must be a real part of it, or this kernel showed nothing to check.
/// schedstat adds a wait when it ends: one in progress at a sample (a queued sleep: up to 100 ms) is moved to
/// the other side of it (<see cref="LiveAnalysisThread.WaitInProgress"/>); without that, one run in six missed by 3–8 %.</para>
/// </summary>
[Collection(nameof(LiveAgentOnTcgGuestsTests))]
public sealed class QueuedSleepVsSchedstatTests(ITestOutputHelper output)
{
    private const long WindowNs = 100_000_000;

    [DllImport("libc", SetLastError = true, EntryPoint = "sched_setaffinity")]
    private static extern int SetAffinity(int tid, nint size, ref ulong mask);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    // Alone after the rest (Category=LiveQemu): it fills both CPUs, and compares with the kernel's books.
    [LiveHostFact]
    [Trait("Category", "LiveQemu")]
    public void Analysis_SleeperMovedWhileQueued_RunDelayMatchesSchedstat()
    {
        Assert.True(Environment.ProcessorCount >= 2, "needs two CPUs to move a thread between");
        var options = new TracefsOptions { InstanceName = "vmtrace-queuedsleep-" + Environment.ProcessId, BufferSizeKb = 16384 };
        using var tracefs = TracefsEventSource.Start(options);
        var live = new LiveAnalysisThread(tracefs, new HostAnalysis(new AnalysisOptions { WindowNs = WindowNs, CpuCount = tracefs.CpuCount }), WindowNs);

        int pid = Environment.ProcessId;
        using var stop = new CancellationTokenSource();
        int vcpuTid = 0;
        using var vcpuReady = new ManualResetEventSlim();
        var threads = new List<Thread>
        {
            new(() => Spin(0, stop.Token)) { IsBackground = true, Name = "busy-0" },
            new(() => Spin(1, stop.Token)) { IsBackground = true, Name = "busy-1" },
            new(() =>
            {
                vcpuTid = GetTid();
                File.WriteAllText($"/proc/self/task/{vcpuTid}/comm", "CPU 0/TCG");
                vcpuReady.Set();
                var clock = new Stopwatch();
                while (!stop.IsCancellationRequested)
                {
                    clock.Restart();
                    while (clock.ElapsedTicks < Stopwatch.Frequency / 250)
                    {
                    }
                    Thread.Sleep(100);
                }
            }) { IsBackground = true, Name = "vcpu" },
        };
        foreach (var t in threads)
            t.Start();
        Assert.True(vcpuReady.Wait(TimeSpan.FromSeconds(10)), "the vCPU-like thread did not start");
        // As the agent's inventory follows its /proc scan: after the thread's creation events have been read (a record
        // applied before them would be overwritten by their unknown parent process).
        Thread.Sleep(500);
        live.AddInventory(new VmInventory("probe", pid,
            [new(pid, File.ReadAllText("/proc/self/comm").TrimEnd('\n')), new(vcpuTid, "CPU 0/TCG")], []));
        var flipper = new Thread(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                ulong mask = 1UL << (i & 1);
                SetAffinity(vcpuTid, sizeof(ulong), ref mask);
                Thread.Sleep(5);
            }
        }) { IsBackground = true, Name = "flipper" };
        flipper.Start();
        threads.Add(flipper);

        Thread.Sleep(300);
        var (t1, s1, read1) = SchedstatOnBoundary.Take(tracefs, [pid], "t1", WindowNs);
        Thread.Sleep(TimeSpan.FromSeconds(5));
        var (t2, s2, read2) = SchedstatOnBoundary.Take(tracefs, [pid], "t2", WindowNs);
        stop.Cancel();
        foreach (var t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(10)), $"{t.Name} did not stop");

        var windows = live.StopAndFlush();
        var diagnostics = tracefs.CollectDiagnostics();
        Assert.True(diagnostics.LostEvents == 0 && diagnostics.ErrorCount == 0, $"lost {diagnostics.LostEvents} events, {diagnostics.ErrorCount} errors");
        var between = windows.Where(w => w.StartNs >= t1 && w.EndNs <= t2).ToList();
        Assert.Equal((t2 - t1) / WindowNs, between.Count);
        var times = between.SelectMany(w => w.Vms).Where(v => v.Vm == "probe").SelectMany(v => v.Vcpus).Where(v => v.Tid == vcpuTid)
            .Aggregate(new CpuTimes(0, 0, 0, 0, 0, 0), (acc, v) => acc.Add(v.Times));
        long kernelRun = s2[vcpuTid].RunNs - s1[vcpuTid].RunNs;
        long kernelWait = s2[vcpuTid].WaitNs - s1[vcpuTid].WaitNs;
        // schedstat's view of the same interval: a wait in progress at a sample counts after it (up to the 100 ms sleep here).
        long atT1 = live.WaitInProgress(t1, vcpuTid), atT2 = live.WaitInProgress(t2, vcpuTid);
        long traceWait = times.RunDelayNs - atT2 + atT1;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"""
            {(t2 - t1) / 1e9:F1} s between the samples (read in {read1 / 1e3:F0} µs and {read2 / 1e3:F0} µs), {live.Events} events, inferred switches {live.Analysis.Counters.InferredSwitches}
            vCPU-like thread {vcpuTid}: run kernel {kernelRun / 1e6:F1} trace {times.OnCpuNs / 1e6:F1} ms ({Diff(times.OnCpuNs, kernelRun):F2} %)
              wait kernel {kernelWait / 1e6:F1} ms; trace preempted {times.PreemptedNs / 1e6:F1} + woken {times.WaitNs / 1e6:F1} + asleep but queued {times.BlockedQueuedNs / 1e6:F1} = {times.RunDelayNs / 1e6:F1} ms, in progress at t1 {atT1 / 1e6:F1} at t2 {atT2 / 1e6:F1}: {traceWait / 1e6:F1} ms ({Diff(traceWait, kernelWait):F2} %)
              without the queued sleep: {(times.StolenNs - atT2 + atT1) / 1e6:F1} ms ({Diff(times.StolenNs - atT2 + atT1, kernelWait):F2} %); blocked {times.BlockedNs / 1e6:F1} ms
            """));

        Assert.True(times.BlockedQueuedNs >= kernelWait / 5,
            $"the kernel moved the sleeping thread while queued for only {times.BlockedQueuedNs / 1e6:F1} ms of its {kernelWait / 1e6:F1} ms wait: no delayed dequeue to check on this kernel?");
        Assert.True(times.BlockedQueuedNs <= times.BlockedNs, "asleep but queued is part of blocked");
        Assert.True(Math.Abs(Diff(traceWait, kernelWait)) <= 5.0,
            $"vCPU run-queue delay trace {traceWait} ns vs schedstat {kernelWait} ns ({Diff(traceWait, kernelWait):F2} %)");
    }

    private static void Spin(int cpu, CancellationToken stop)
    {
        ulong mask = 1UL << cpu;
        Assert.Equal(0, SetAffinity(0, sizeof(ulong), ref mask));
        while (!stop.IsCancellationRequested)
        {
        }
    }
}
