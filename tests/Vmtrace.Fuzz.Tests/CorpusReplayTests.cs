using Vmtrace.Decoding.Archives;

namespace Vmtrace.Fuzz.Tests;

/// <summary>
/// Every file of the fuzz corpus (the seeds and every input a fuzzing run found, kept in fuzz/corpus) through every
/// target, in this process: no exception but the readers' one-line refusal, and bounded time and allocation.
/// </summary>
public sealed class CorpusReplayTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public void EveryCorpusInput_ThroughEveryTarget_RefusedInOneLineOrReadWithinBounds()
    {
        var files = FuzzCorpus.Files();
        Assert.True(files.Count >= FuzzTarget.All.Count, "every target has a corpus");
        Assert.All(FuzzTarget.All, t => Assert.Contains(files, f => f.Target == t.Name));
        var problems = new List<string>();
        foreach (var (_, file) in files)
        {
            var input = File.ReadAllBytes(file);
            foreach (var target in FuzzTarget.All)
            {
                if (FuzzCorpus.Check(target, input, _work.Path, Path.GetRelativePath(FuzzCorpus.Root, file)) is { } problem)
                    problems.Add(problem);
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Seeds_ThroughTheirOwnTarget_AreRead()
    {
        // A seed its own target refuses would fuzz nothing but the refusal.
        foreach (var (targetName, file) in FuzzCorpus.Files().Where(f => FuzzCorpus.IsSeed(f.File)))
        {
            var outcome = FuzzTarget.Find(targetName).Run(File.ReadAllBytes(file), _work.Path);
            Assert.True(outcome.Refused is null, $"{file}: {outcome.Refused?.Message}");
            Assert.True(outcome.Events > 0, $"{file}: no event");
        }
    }

    [Fact]
    public void AnalyzeTarget_QemuLogWithATimeJump_CountsOneJumpAndMakesFewWindows()
    {
        // 20 events of a qemu log, up to 1795385085.361899 s, then one at 2795385082.230531 s (31.7 years on), then
        // one back at the old time: without the gap limit, 10^9 one-second windows.
        var input = File.ReadAllBytes(Path.Combine(FuzzCorpus.Root, "analyze", "qemulog-time-jump.bin"));

        var outcome = FuzzTarget.Find("analyze").Run(input, _work.Path);

        Assert.Null(outcome.Refused);
        Assert.Equal(1, outcome.Analysis!.TimeJumps);
        Assert.Equal(2_795_385_082_230_531_000L - 1_795_385_085_361_899_000L, outcome.Analysis.TimeJumpNs);
        Assert.Equal(1, outcome.Analysis.OutOfOrderEvents); // the event after the jump, back at the old time
    }
}
