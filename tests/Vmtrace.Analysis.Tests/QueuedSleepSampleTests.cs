using System.Text.Json;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using Xunit.Abstractions;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// samples/queued-sleep: a real trace in which the kernel counts a vCPU thread's sleep as run-queue wait (EEVDF
/// delayed dequeue: moved while still queued, docs/metrics.md), recorded by scripts/queued-sleep/record.sh on a
/// 2-CPU Linux 6.18 host with the thread's schedstat read at two 100 ms window boundaries (schedstat.json). The
/// expected figures are the kernel's own, recorded with the trace.
/// </summary>
public class QueuedSleepSampleTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(Corpus.RepoRoot, "samples", "queued-sleep");

    [Fact]
    public void Analyze_QueuedSleepSample_RunDelayIsTheKernelsWaitBetweenTheSamples()
    {
        using var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "schedstat.json")));
        var root = recorded.RootElement;
        int tid = root.GetProperty("vcpu_tid").GetInt32();
        long window = root.GetProperty("window_ns").GetInt64();
        var samples = root.GetProperty("samples");
        long t1 = samples[0].GetProperty("at_ns").GetInt64(), t2 = samples[1].GetProperty("at_ns").GetInt64();
        long kernelWait = samples[1].GetProperty("wait_ns").GetInt64() - samples[0].GetProperty("wait_ns").GetInt64();
        long kernelRun = samples[1].GetProperty("run_ns").GetInt64() - samples[0].GetProperty("run_ns").GetInt64();

        // The waits in progress at each sample, in the kernel's books: schedstat adds a wait when it ends.
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = window });
        using var source = TraceOpener.Open(Path.Combine(Dir, "trace.dat.xz"));
        analysis.AddThreadNames(source.InitialThreadNames);
        Dictionary<int, long>? at1 = null, at2 = null;
        var windows = new List<WindowMetrics>();
        while (source.MoveNext())
        {
            var e = source.Current;
            if (at1 is null && e.Timestamp >= t1)
                at1 = analysis.RunDelayStarts();
            if (at2 is null && e.Timestamp >= t2)
                at2 = analysis.RunDelayStarts();
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
        }
        analysis.Flush(analysis.Now);
        windows.AddRange(analysis.TakeClosedWindows());
        Assert.NotNull(at1);
        Assert.NotNull(at2);
        long inProgress1 = at1.TryGetValue(tid, out long since1) ? t1 - since1 : 0;
        long inProgress2 = at2.TryGetValue(tid, out long since2) ? t2 - since2 : 0;

        var between = windows.Where(w => w.StartNs >= t1 && w.EndNs <= t2).ToList();
        Assert.Equal((t2 - t1) / window, between.Count);
        // The stand-in VM is recognised as qemu would be: its process name, its thread named CPU 0/TCG.
        var times = between.SelectMany(w => w.Vms).SelectMany(v => v.Vcpus).Where(v => v.Tid == tid)
            .Aggregate(new CpuTimes(0, 0, 0, 0, 0, 0), (acc, v) => acc.Add(v.Times));
        long traceWait = times.RunDelayNs - inProgress2 + inProgress1;

        output.WriteLine($"run kernel {kernelRun} trace {times.OnCpuNs}; wait kernel {kernelWait} trace {traceWait} = preempted {times.PreemptedNs} + woken {times.WaitNs} + queued asleep {times.BlockedQueuedNs} - in progress at t2 {inProgress2} + at t1 {inProgress1} ns");
        Assert.InRange(times.OnCpuNs, kernelRun * 0.98, kernelRun * 1.02);
        Assert.InRange(traceWait, kernelWait * 0.95, kernelWait * 1.05);
        // Most of the kernel's wait here is sleep: without it the trace's figure is far off.
        Assert.True(times.BlockedQueuedNs >= kernelWait / 3, $"queued sleep {times.BlockedQueuedNs} of {kernelWait} ns");
        Assert.True(times.StolenNs - inProgress2 + inProgress1 < kernelWait * 0.8);
    }
}
