using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>Real corpus traces for checkpoint tests, opened with their names and inventory as <c>vmtrace analyze</c> does.</summary>
internal static class CheckpointTestTraces
{
    private static readonly Dictionary<string, (string[] Inputs, string? VmMap)> Traces = new(StringComparer.Ordinal)
    {
        ["s3"] = (["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"], "tcg-qemu/s3-disk-vs-cpu/vmmap.json"),
        ["s4"] = (["tcg-qemu/s4-net/trace.dat.xz", "tcg-qemu/s4-net/qemu-vmN.log.xz"], "tcg-qemu/s4-net/vmmap.json"),
        ["hip24-2vms"] = (["hip24-kvm-host-2vms-46s/host.trace.dat"], null),
        ["hip24-allkvm"] = (["hip24-kvm-host-allkvm/host.trace.dat"], null),
    };

    public static EventSource Open(string trace) => TraceOpener.OpenAll(Traces[trace].Inputs.Select(Corpus.Path).ToList());

    public static HostAnalysis Start(EventSource source, string trace)
    {
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(source.InitialThreadNames);
        if (Traces[trace].VmMap is { } map)
        {
            foreach (var vm in VmMapJson.Parse(File.ReadAllText(Corpus.Path(map))))
                analysis.AddInventory(vm);
        }
        return analysis;
    }

    /// <summary>The windows of a straight run, and how many had been taken after each event (index = events handled).</summary>
    public static (List<WindowMetrics> Windows, List<int> TakenAfter) Straight(string trace)
    {
        using var source = Open(trace);
        var analysis = Start(source, trace);
        var windows = new List<WindowMetrics>();
        var takenAfter = new List<int> { 0 };
        long last = long.MinValue;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
            takenAfter.Add(windows.Count);
        }
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());
        return (windows, takenAfter);
    }
}
