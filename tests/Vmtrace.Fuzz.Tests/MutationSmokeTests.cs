using Vmtrace.Decoding.Archives;

namespace Vmtrace.Fuzz.Tests;

/// <summary>
/// The CI share of the mutated-copies experiment: seeded damage (<see cref="Mutator"/>) to each hand-made seed, run
/// through its target in this process with the same bounds as the corpus replay. Deterministic: a failure names
/// the seed that makes the input again (<c>Vmtrace.Fuzz</c> and docs/fuzzing.md for the full experiment).
/// </summary>
public sealed class MutationSmokeTests : IDisposable
{
    private const int MutationsPerSeed = 64;
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public void SeededMutationsOfEverySeed_ThroughItsTarget_RefusedInOneLineOrReadWithinBounds()
    {
        var problems = new List<string>();
        int runs = 0;
        foreach (var (targetName, file) in FuzzCorpus.Files().Where(f => FuzzCorpus.IsSeed(f.File)))
        {
            var target = FuzzTarget.Find(targetName);
            var original = File.ReadAllBytes(file);
            for (int seed = 1; seed <= MutationsPerSeed; seed++)
            {
                // The analyze target's first byte picks the reader: keep it so the damage goes to the trace.
                byte[] input = target.IsAnalysis ? [original[0], .. Mutator.Mutate(original.AsSpan(1), seed)] : Mutator.Mutate(original, seed);
                runs++;
                if (FuzzCorpus.Check(target, input, _work.Path, $"{Path.GetFileName(file)} seed {seed} ({Mutator.KindOf(seed)})") is { } problem)
                    problems.Add(problem);
            }
        }
        Assert.True(runs >= 100, $"only {runs} runs");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Mutate_SameSeed_SameBytes()
    {
        var original = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        for (int seed = 0; seed < 8; seed++)
            Assert.Equal(Mutator.Mutate(original, seed), Mutator.Mutate(original, seed));
        Assert.NotEqual(Mutator.Mutate(original, 1), Mutator.Mutate(original, 5)); // bit flips of two seeds
    }
}
