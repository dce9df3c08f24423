using System.Diagnostics;
using System.Globalization;
using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// <c>Vmtrace.Bench analyze</c>: analysis throughput on real traces replayed from memory (decoded once
/// first), on one thread: events/s per core, ns per event, and bytes allocated per event — over the whole
/// run (includes the model's once-per-thread objects and the closed windows) and over the second half
/// of the events (steady state: every thread, VM and exit reason already seen).
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

    public static int Run(string traces, int runs, TextWriter o)
    {
        o.WriteLine($"{"scenario",-26} {"events",10} {"Mev/s/core",11} {"ns/event",9} {"replay ns/ev",12} {"B/event run",12} {"B/event steady",15} {"B/event (no window close)",26}");
        foreach (var (name, inputs, inventoryFile) in Scenarios)
        {
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

            for (int i = 0; i < 3; i++)
                Once(replay, inventory);
            var best = Once(replay, inventory);
            for (int i = 1; i < runs; i++)
            {
                var r = Once(replay, inventory);
                if (r.Seconds < best.Seconds)
                    best = r;
            }
            double n = replay.Count;
            double replayOnly = double.MaxValue;
            for (int i = 0; i < runs; i++)
                replayOnly = Math.Min(replayOnly, ReplayOnly(replay));
            long outsideCloses = BytesOutsideWindowCloses(replay, inventory);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-26} {replay.Count,10:N0} {n / best.Seconds / 1e6,11:F2} {best.Seconds * 1e9 / n,9:F1} {replayOnly * 1e9 / n,12:F1} {best.RunBytes / n,12:F2} {best.SteadyBytes / (n - n / 2),15:F3} {outsideCloses / n,26:F3}"));
        }
        return 0;
    }

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
    /// Untimed pass: bytes allocated by OnEvent calls that closed no window, after the first 10 % of the
    /// events (threads, VMs and exit reasons seen by then). Should be 0: nothing is allocated per event.
    /// </summary>
    private static long BytesOutsideWindowCloses(ReplaySource replay, IReadOnlyList<VmInventory> inventory)
    {
        replay.Rewind();
        var analysis = new HostAnalysis(new AnalysisOptions { CpuCount = replay.CpuCount });
        analysis.AddThreadNames(replay.InitialThreadNames);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        long n = 0, bytes = 0, skip = replay.Count / 10;
        while (replay.MoveNext())
        {
            var e = replay.Current;
            long window = analysis.OpenWindowStart;
            long before = GC.GetAllocatedBytesForCurrentThread();
            analysis.OnEvent(e);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (++n > skip && analysis.OpenWindowStart == window)
                bytes += after - before;
            if ((n & 0x3FF) == 0)
                analysis.TakeClosedWindows();
        }
        return bytes;
    }

    private readonly record struct Result(double Seconds, long RunBytes, long SteadyBytes);

    private static Result Once(ReplaySource replay, IReadOnlyList<VmInventory> inventory)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        replay.Rewind();
        long half = replay.Count / 2;
        long startBytes = GC.GetAllocatedBytesForCurrentThread();
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
        GC.KeepAlive(windows);
        return new Result(clock.Elapsed.TotalSeconds, endBytes - startBytes, endBytes - halfBytes);
    }
}
