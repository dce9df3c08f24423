using System.Diagnostics;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Archives;
using Vmtrace.TestSupport;

namespace Vmtrace.Fuzz.Tests;

/// <summary>
/// Damaged copies of real traces that the mutated-copies experiment (Vmtrace.Fuzz mutate --seed 1) found making
/// <c>vmtrace analyze</c> pass 2 GiB or run for minutes: each made again from its seed and analysed in this process.
/// Their damage puts a timestamp hours to years away; the analysis must count the jump and stay small and quick.
/// </summary>
public sealed class MutatedCorpusTraceTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly TempDirectory _unpacked = new();

    public void Dispose()
    {
        _temp.Dispose();
        _unpacked.Dispose();
    }

    [CorpusTheory]
    [InlineData("tcg-qemu/s2-cpu-contention/trace.dat.xz", null, 31)]    // was killed at 2 GiB after 22 s
    [InlineData("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", null, 163)]      // 2 GiB after 11 s
    [InlineData("tcg-qemu/s4-net/trace.dat.xz", null, 139)]              // 2 GiB after 7 s
    [InlineData("hip24-kvm-host-2vms-46s/host.trace.dat", null, 368)]     // still running after 29 s
    [InlineData("tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz", "perf-ctf/perf_stream_1", 448)] // 1.3 GiB, 26 s
    public void Analyze_CopyDamagedWithSeed_CountsTheJumpWithFewWindows(string trace, string? damagedFile, int seed)
    {
        string input = trace.EndsWith(".xz", StringComparison.Ordinal) ? Decompression.Unpack(Corpus.Path(trace), _unpacked) : Corpus.Path(trace);
        string victim = damagedFile is null ? input : Path.Combine(input, damagedFile);
        string copy = damagedFile is null ? Path.Combine(_temp.Path, "copy.dat") : victim;
        File.WriteAllBytes(copy, Mutator.Mutate(File.ReadAllBytes(victim), seed));
        var clock = Stopwatch.StartNew();

        using var source = TraceOpener.Open(damagedFile is null ? copy : input);
        var outcome = FuzzTarget.AnalyzeAll(source);

        Assert.InRange(outcome.Analysis!.TimeJumps, 1, 10);
        Assert.InRange(outcome.Windows, 1, 10_000); // the traces span seconds; the jumps are years
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }
}
