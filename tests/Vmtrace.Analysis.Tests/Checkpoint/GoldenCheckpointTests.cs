using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>
/// A checkpoint file written by this format version stays readable by later builds, and restoring it continues
/// the trace exactly. The golden file was made from the real trace tcg-qemu/s4-net (trace.dat.xz and
/// qemu-vmN.log.xz, with the vmmap.json inventory and the trace's thread names, as <c>vmtrace analyze</c> opens
/// them): the analysis was fed its first <see cref="GoldenCut"/> events, the windows closed by then were taken,
/// and the checkpoint saved. To rewrite it (only when the format version changes on purpose; never in CI):
/// <c>VMTRACE_REWRITE_GOLDEN_CHECKPOINT=1 dotnet test tests/Vmtrace.Analysis.Tests --filter GoldenCheckpointTests</c>.
/// </summary>
public class GoldenCheckpointTests
{
    private const string Trace = "s4";
    private const int GoldenCut = 200_000;
    private const string RewriteVariable = "VMTRACE_REWRITE_GOLDEN_CHECKPOINT";

    private static string GoldenPath =>
        Path.Combine(Corpus.RepoRoot, "tests", "Vmtrace.Analysis.Tests", "Checkpoint", "golden-s4-net-200000.checkpoint");

    [CorpusFact]
    public void RestoreCheckpoint_GoldenFile_ContinuesLikeTheStraightRun()
    {
        if (Environment.GetEnvironmentVariable(RewriteVariable) == "1")
            File.WriteAllBytes(GoldenPath, SaveAtCut());
        var (straight, takenAfter) = CheckpointTestTraces.Straight(Trace);
        Assert.True(takenAfter.Count - 1 > GoldenCut);

        var analysis = HostAnalysis.RestoreCheckpoint(File.ReadAllBytes(GoldenPath));
        Assert.Equal(GoldenCut, analysis.Counters.Events);
        using var source = CheckpointTestTraces.Open(Trace);
        var windows = new List<WindowMetrics>();
        long n = 0, last = long.MinValue;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            if (n++ < GoldenCut)
                continue;
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
        }
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());

        var expected = straight.Skip(takenAfter[GoldenCut]).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(WindowText.Of(expected), WindowText.Of(windows));
    }

    /// <summary>Needs no corpus: the committed file restores and saves back to the same bytes.</summary>
    [Fact]
    public void RestoreCheckpoint_GoldenFile_SavesBackTheSameBytes()
    {
        var golden = File.ReadAllBytes(GoldenPath);
        Assert.Equal(golden, HostAnalysis.RestoreCheckpoint(golden).SaveCheckpoint());
    }

    private static byte[] SaveAtCut()
    {
        using var source = CheckpointTestTraces.Open(Trace);
        var analysis = CheckpointTestTraces.Start(source, Trace);
        for (int i = 0; i < GoldenCut && source.MoveNext(); i++)
        {
            analysis.OnEvent(source.Current);
            _ = analysis.TakeClosedWindows();
        }
        return analysis.SaveCheckpoint();
    }
}
