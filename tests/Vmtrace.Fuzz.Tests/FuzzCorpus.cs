using System.Diagnostics;
using Vmtrace.TestSupport;

namespace Vmtrace.Fuzz.Tests;

/// <summary>The fuzz corpus kept in the repository (fuzz/corpus/&lt;target&gt;/…) and the bounds every input must keep.</summary>
internal static class FuzzCorpus
{
    /// <summary>
    /// Wall time one corpus-sized input may take through one target. The inputs are at most a few tens of KB and
    /// take well under a second; a runaway (millions of windows, a loop) takes minutes or never ends.
    /// </summary>
    public static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(10);

    /// <summary>Bytes one run may allocate: a few MB for the largest seed; runaway windows or tables take GBs.</summary>
    public const long MaxAllocatedBytes = 256L << 20;

    public static string Root => Path.Combine(Corpus.RepoRoot, "fuzz", "corpus");

    /// <summary>Every corpus file, with the target of the folder it is in.</summary>
    public static IReadOnlyList<(string Target, string File)> Files() =>
        Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal)
            .SelectMany(d => Directory.EnumerateFiles(d).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(d), f)))
            .ToList();

    /// <summary>True for the hand-made seeds; inputs afl found (afl-*, found-*) are replayed but not mutated further here.</summary>
    public static bool IsSeed(string file) =>
        !Path.GetFileName(file).StartsWith("afl-", StringComparison.Ordinal) && !Path.GetFileName(file).StartsWith("found-", StringComparison.Ordinal);

    /// <summary>
    /// Runs one input through one target on this thread: a <see cref="Vmtrace.Decoding.TraceFormatException"/> (the
    /// documented refusal) is an outcome; anything else thrown, or a bound passed, is returned as a problem.
    /// </summary>
    public static string? Check(FuzzTarget target, byte[] input, string workDir, string name)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            var outcome = target.Run(input, workDir);
            if (outcome.Refused is { } refused && (refused.Message.Contains('\n') || refused.Message.Length == 0))
                return $"{target.Name} {name}: the refusal is not one line: {refused.Message}";
        }
        catch (Exception ex)
        {
            return $"{target.Name} {name}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}";
        }
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (clock.Elapsed > MaxTime)
            return $"{target.Name} {name}: took {clock.Elapsed.TotalSeconds:F1} s";
        if (allocated > MaxAllocatedBytes)
            return $"{target.Name} {name}: allocated {allocated >> 20} MiB";
        return null;
    }
}
