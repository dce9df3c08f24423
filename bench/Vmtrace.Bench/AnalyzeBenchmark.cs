using System.Diagnostics;
using System.Globalization;
using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// <c>Vmtrace.Bench analyze</c>: analysis throughput on real traces replayed from memory (decoded once
/// first), on one thread: events/s per core from wall time and from the thread's CPU time (best and
/// median of the runs), and bytes allocated per event — over the whole run (includes the model's
/// once-per-thread objects and the closed windows), over the second half of the events (steady state:
/// every thread, VM and exit reason already seen), and outside window closes.
/// </summary>
internal static class AnalyzeBenchmark
{
    private static readonly (string Name, string[] Inputs, string? Inventory)[] Scenarios =
    [
        ("hip24-2vms (kvm only)", ["hip24-kvm-host-2vms-46s/host.trace.dat"], null),
        ("tcg s2-cpu-contention", ["tcg-qemu/s2-cpu-contention/trace.dat.xz"], "tcg-qemu/s2-cpu-contention/vmmap.json"),
        ("tcg s3-disk + qemu logs", ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz"], "tcg-qemu/s3-disk-vs-cpu/vmmap.json"),
        ("tcg s4-net", ["tcg-qemu/s4-net/trace.dat.xz"], "tcg-qemu/s4-net/vmmap.json"),
    ];

    private const double WarmUpSeconds = 3;

    /// <summary>The same loop over the same events varies by a few % run to run; a median this far above the best means the machine slowed down.</summary>
    private const double UnsteadyRatio = 1.10;

    /// <param name="scenarioFilter">Runs only the scenarios whose name contains it (e.g. "s2"), or all when null.</param>
    public static int Run(string traces, int runs, string? scenarioFilter, TextWriter o)
    {
        o.WriteLine($"vmtrace analysis benchmark: {MachineDescription.Cpu()}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {runs} timed runs after at least 3 warm-up runs and {WarmUpSeconds} s");
        o.WriteLine($"load average before: {DecodeBenchmark.LoadAverage()}");
        o.WriteLine($"{"scenario",-26} {"events",10} {"Mev/s/core cpu",15} {"(median)",9} {"Mev/s wall",11} {"(median)",9} {"cpu ns/ev",10} {"replay ns/ev",12} {"sink ns/ev",10} {"analysis Mev/s/core",19} {"B/event run",12} {"B/event steady",15} {"B/event (no window close)",26} {"KB/window close",15}");
        var unsteady = new List<string>();
        foreach (var (name, inputs, inventoryFile) in Scenarios)
        {
            if (scenarioFilter is not null && !name.Contains(scenarioFilter, StringComparison.OrdinalIgnoreCase))
                continue;
            var paths = inputs.Select(i => Path.Combine(traces, i)).ToList();
            if (!paths.All(p => File.Exists(p) || Directory.Exists(p)))
            {
                o.WriteLine($"{name,-26} missing input under {traces}");
                continue;
            }
            ReplaySource replay;
            using (var source = TraceOpener.OpenAll(paths))
                replay = ReplaySource.Capture(source);
            var inventory = inventoryFile is null ? [] : VmMapJson.Parse(File.ReadAllText(Path.Combine(traces, inventoryFile)));

            // Warm up until tiered compilation has settled: a small trace's run lasts a few ms, so a fixed
            // count of warm-up runs ended before tier-1 code replaced tier-0 and the figures measured tier 0.
            var warmUpClock = Stopwatch.StartNew();
            // The feeding loop too: compiled anew for tier 1 on the first scenario, its runs would otherwise differ by tier.
            for (int i = 0; i < 3 || warmUpClock.Elapsed.TotalSeconds < WarmUpSeconds; i++)
            {
                Once(replay, inventory);
                SinkOnce(replay);
            }
            // The feeding loop runs between the analysis runs, not after them: its figure, subtracted from theirs, then
            // comes from the same minutes (this kind of machine has phases of minutes in which everything runs slower).
            var results = new List<Result>();
            var sinks = new List<double>();
            for (int i = 0; i < runs; i++)
            {
                results.Add(Once(replay, inventory));
                if (SinkOnce(replay) is { } sink)
                    sinks.Add(sink);
            }
            double n = replay.Count;
            double replayOnly = double.MaxValue;
            for (int i = 0; i < runs; i++)
                replayOnly = Math.Min(replayOnly, ReplayOnly(replay));
            sinks.Sort();
            double sinkBest = sinks.Count > 0 ? sinks[0] : double.MaxValue;
            var (outsideCloses, closeBytes, closes) = BytesByKindOfCall(replay, inventory);
            var best = results.MinBy(r => r.Seconds)!;
            var wall = results.Select(r => r.Seconds).Order().ToList();
            var cpu = results.Where(r => r.CpuSeconds is not null).Select(r => r.CpuSeconds!.Value).Order().ToList();
            string cpuBest = cpu.Count > 0 && cpu[0] > 0 ? (n / cpu[0] / 1e6).ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            string cpuMedian = cpu.Count > 0 && Median(cpu) > 0 ? (n / Median(cpu) / 1e6).ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            string cpuNs = cpu.Count > 0 ? (cpu[0] * 1e9 / n).ToString("F1", CultureInfo.InvariantCulture) : "n/a";
            bool sinkMeasured = sinkBest < double.MaxValue;
            string sinkNs = sinkMeasured ? (sinkBest * 1e9 / n).ToString("F1", CultureInfo.InvariantCulture) : "n/a";
            string analysisOnly = cpu.Count > 0 && sinkMeasured && cpu[0] > sinkBest
                ? (n / (cpu[0] - sinkBest) / 1e6).ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-26} {replay.Count,10:N0} {cpuBest,15} {cpuMedian,9} {n / wall[0] / 1e6,11:F2} {n / Median(wall) / 1e6,9:F2} {cpuNs,10} {replayOnly * 1e9 / n,12:F1} {sinkNs,10} {analysisOnly,19} {best.RunBytes / n,12:F2} {best.SteadyBytes / (n - n / 2),15:F3} {outsideCloses / n,26:F3} {(closes > 0 ? closeBytes / 1024.0 / closes : 0),15:F1}"));
            if (sinkMeasured && Median(sinks) > sinkBest * UnsteadyRatio)
                unsteady.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: the feeding loop's median run took {Median(sinks) / sinkBest:F2}× its best"));
        }
        o.WriteLine($"load average after: {DecodeBenchmark.LoadAverage()}");
        foreach (var line in unsteady)
            o.WriteLine($"UNSTEADY {line}: the machine's speed changed during the runs; compare only with runs taken when it did not.");
        o.WriteLine("Mev/s/core cpu: events over the analysing thread's CPU time (CLOCK_THREAD_CPUTIME_ID; steadier than wall time on a shared machine),");
        o.WriteLine("best and median of the runs; Mev/s wall: the same over wall time. Each run includes the window snapshots and the final flush.");
        o.WriteLine("replay ns/ev: the in-memory replay loop alone (best wall time), reading two header fields of each event; included in the figures before it.");
        o.WriteLine("sink ns/ev: the timed loop with each event handed to an empty consumer instead of the analysis (same replay, same TraceEvent,");
        o.WriteLine("a call not inlined, same bookkeeping; best thread CPU time of 8 passes, run between the analysis runs): what feeding costs. analysis Mev/s/core: events over the best run's");
        o.WriteLine("CPU time minus the sink's, i.e. the analysis' own work per event, as a decoder handing it events would see it.");
        o.WriteLine("B/event: bytes allocated on the analysing thread (GC.GetAllocatedBytesForCurrentThread) per event: over a whole run;");
        o.WriteLine("over its second half (steady); by OnEvent calls that closed no window, after the first 10 % of the events.");
        o.WriteLine("KB/window close: allocated by the OnEvent calls that closed windows (after the first 10 %), per window closed.");
        o.WriteLine("Rows flagged UNSTEADY: the feeding loop's median run took over " + UnsteadyRatio.ToString("F2", CultureInfo.InvariantCulture) + "× its best (the same work: the machine slowed down during the runs).");
        o.WriteLine("target: >= 5 M events/s per core, nothing allocated per event.");
        return 0;
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>
    /// <see cref="Once"/>'s loop with the analysis replaced by an empty consumer: the replay, the <see cref="TraceEvent"/>
    /// handed over by reference to a call that is not inlined, and the same bookkeeping. Thread CPU seconds of one pass, or
    /// null. Timed over <see cref="SinkPasses"/> passes: one pass lasts a tenth of an analysis run, and an interrupt or two
    /// would move it by more than the analysis runs vary.
    /// </summary>
    private static double? SinkOnce(ReplaySource replay)
    {
        long half = replay.Count / 2;
        long last = 0, marks = 0;
        double? cpuStart = CpuTime.ThreadPrecise();
        for (int pass = 0; pass < SinkPasses; pass++)
        {
            replay.Rewind();
            long n = 0;
            while (replay.MoveNext())
            {
                var e = replay.Current;
                last = e.Timestamp;
                Sink(e);
                if (++n == half)
                    marks++;
                if ((n & 0x3FF) == 0)
                    marks += SinkTake();
            }
        }
        double? cpuEnd = CpuTime.ThreadPrecise();
        GC.KeepAlive(last + marks);
        return (cpuEnd - cpuStart) / SinkPasses;
    }

    private const int SinkPasses = 8;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Sink(in TraceEvent e)
    {
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int SinkTake() => 0;

    /// <summary>The cost of the replay loop alone (reading every event header), to subtract by eye.</summary>
    private static double ReplayOnly(ReplaySource replay)
    {
        replay.Rewind();
        long sum = 0;
        var clock = Stopwatch.StartNew();
        while (replay.MoveNext())
        {
            var e = replay.Current;
            sum += e.Timestamp ^ e.Tid;
        }
        clock.Stop();
        GC.KeepAlive(sum);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Untimed pass, after the first 10 % of the events (threads, VMs and exit reasons seen by then): bytes
    /// allocated by OnEvent calls that closed no window (should be 0: nothing is allocated per event), and
    /// by those that closed windows (the metrics handed out, and any garbage of making them) with the
    /// number of windows they closed.
    /// </summary>
    private static (long OutsideCloses, long InCloses, long Closes) BytesByKindOfCall(ReplaySource replay, IReadOnlyList<VmInventory> inventory)
    {
        replay.Rewind();
        var analysis = new HostAnalysis(new AnalysisOptions { CpuCount = replay.CpuCount });
        analysis.AddThreadNames(replay.InitialThreadNames);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        long n = 0, outside = 0, inCloses = 0, closes = 0, skip = replay.Count / 10;
        while (replay.MoveNext())
        {
            var e = replay.Current;
            long window = analysis.OpenWindowStart;
            long before = GC.GetAllocatedBytesForCurrentThread();
            analysis.OnEvent(e);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (++n > skip)
            {
                if (analysis.OpenWindowStart == window)
                    outside += after - before;
                else
                {
                    inCloses += after - before;
                    closes += analysis.TakeClosedWindows().Count;
                }
            }
            if ((n & 0x3FF) == 0)
                analysis.TakeClosedWindows();
        }
        return (outside, inCloses, closes);
    }

    private sealed record Result(double Seconds, double? CpuSeconds, long RunBytes, long SteadyBytes);

    private static Result Once(ReplaySource replay, IReadOnlyList<VmInventory> inventory)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        replay.Rewind();
        long half = replay.Count / 2;
        long startBytes = GC.GetAllocatedBytesForCurrentThread();
        double? cpuStart = CpuTime.ThreadPrecise();
        var clock = Stopwatch.StartNew();
        var analysis = new HostAnalysis(new AnalysisOptions { CpuCount = replay.CpuCount });
        analysis.AddThreadNames(replay.InitialThreadNames);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        long n = 0, last = 0, halfBytes = 0, windows = 0;
        while (replay.MoveNext())
        {
            var e = replay.Current;
            last = e.Timestamp;
            analysis.OnEvent(e);
            if (++n == half)
                halfBytes = GC.GetAllocatedBytesForCurrentThread();
            if ((n & 0x3FF) == 0)
                windows += analysis.TakeClosedWindows().Count;
        }
        long endBytes = GC.GetAllocatedBytesForCurrentThread();
        analysis.Flush(last);
        windows += analysis.TakeClosedWindows().Count;
        clock.Stop();
        double? cpuEnd = CpuTime.ThreadPrecise();
        GC.KeepAlive(windows);
        return new Result(clock.Elapsed.TotalSeconds, cpuEnd - cpuStart, endBytes - startBytes, endBytes - halfBytes);
    }
}
