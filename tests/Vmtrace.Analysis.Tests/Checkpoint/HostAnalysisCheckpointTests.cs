using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>
/// Save → restore into a fresh analysis at several cut points gives exactly the windows of a straight
/// run: the checkpoint holds everything that influences future output.
/// </summary>
public class HostAnalysisCheckpointTests
{
    private static readonly Dictionary<string, string[]> Traces = new(StringComparer.Ordinal)
    {
        ["s3"] = ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"],
        ["s4"] = ["tcg-qemu/s4-net/trace.dat.xz", "tcg-qemu/s4-net/qemu-vmN.log.xz"],
        ["hip24-2vms"] = ["hip24-kvm-host-2vms-46s/host.trace.dat"],
        ["hip24-allkvm"] = ["hip24-kvm-host-allkvm/host.trace.dat"],
    };

    private static readonly Dictionary<string, string> VmMaps = new(StringComparer.Ordinal)
    {
        ["s3"] = "tcg-qemu/s3-disk-vs-cpu/vmmap.json",
        ["s4"] = "tcg-qemu/s4-net/vmmap.json",
    };

    [CorpusTheory]
    [InlineData("s3")]
    [InlineData("s4")]
    [InlineData("hip24-2vms")]
    [InlineData("hip24-allkvm")]
    public void RestoreCheckpoint_RealTraceCutAtSeveralPoints_WindowsIdenticalToStraightRun(string trace)
    {
        var (straight, events) = Run(trace, cuts: []);
        Assert.True(events > 1000, $"{trace}: only {events} events");
        // Cuts at the very start, mid-trace (mid-window) and just before the end; each restore continues in a new instance.
        long[] cuts = [1, events / 7, events / 3, events / 2 + 1, events * 4 / 5, events - 1];
        var (restored, _) = Run(trace, cuts);
        Assert.True(straight.Length > 0);
        Assert.Equal(straight, restored);
    }

    [CorpusFact]
    public void SaveCheckpoint_RestoredAnalysis_SavesTheSameBytes()
    {
        using var source = Open("s3");
        var analysis = Start(source, "s3");
        for (int i = 0; i < 200_000 && source.MoveNext(); i++)
            analysis.OnEvent(source.Current);
        var saved = analysis.SaveCheckpoint();
        var again = HostAnalysis.RestoreCheckpoint(saved).SaveCheckpoint();
        Assert.Equal(saved, again);
    }

    [Fact]
    public void RestoreCheckpoint_CutShort_ThrowsNamingTheByte()
    {
        var analysis = new HostAnalysis();
        analysis.AddInventory(new VmInventory("vmA", 100, [new InventoryThread(101, "CPU 0/KVM")], ["tap0"]));
        var saved = analysis.SaveCheckpoint();
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(saved.AsSpan(0, saved.Length / 2)));
        Assert.Contains("cut short", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreCheckpoint_NotACheckpoint_Throws()
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint("garbage bytes here"u8));
        Assert.Contains("not an analysis checkpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreCheckpoint_InventoryOnly_KeepsOptionsAndVms()
    {
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 250_000_000, TopInterferers = 3, FromNs = 42 });
        analysis.AddInventory(new VmInventory("vmA", 100, [new InventoryThread(101, "CPU 0/KVM")], ["tap0"]));
        var restored = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
        Assert.Equal(analysis.SaveCheckpoint(), restored.SaveCheckpoint());
        Assert.NotSame(analysis.Counters, restored.Counters);
    }

    private static EventSource Open(string trace) => TraceOpener.OpenAll(Traces[trace].Select(Corpus.Path).ToList());

    private static HostAnalysis Start(EventSource source, string trace)
    {
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(source.InitialThreadNames);
        if (VmMaps.TryGetValue(trace, out var map))
        {
            foreach (var vm in VmMapJson.Parse(File.ReadAllText(Corpus.Path(map))))
                analysis.AddInventory(vm);
        }
        return analysis;
    }

    private static (string Text, long Events) Run(string trace, long[] cuts)
    {
        using var source = Open(trace);
        var analysis = Start(source, trace);
        var windows = new List<WindowMetrics>();
        long n = 0, last = long.MinValue;
        int next = 0;
        while (source.MoveNext())
        {
            if (next < cuts.Length && n == cuts[next])
            {
                next++;
                var saved = analysis.SaveCheckpoint();
                analysis = HostAnalysis.RestoreCheckpoint(saved);
            }
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
            n++;
        }
        Assert.Equal(cuts.Length, next);
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());
        return (WindowText.Of(windows), n);
    }
}
