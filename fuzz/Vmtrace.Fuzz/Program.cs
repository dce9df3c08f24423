using System.Globalization;
using Vmtrace.Fuzz;

// vmtrace's fuzz harness: afl++ targets (through SharpFuzz), corpus replay, and the mutated-copies experiment.
// Usage in docs/fuzzing.md.
return args switch
{
    ["afl", var target] => Afl.Run(FuzzTarget.Find(target)),
    ["replay", var target, .. var paths] when paths.Length > 0 => Replay.Run(target, paths, Console.Out),
    ["mutate", .. var options] => Mutate(options),
    ["mutate-one", var input, var seed, var output] => MutateOne(input, int.Parse(seed, CultureInfo.InvariantCulture), output),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Vmtrace.Fuzz afl <target>                 one afl++ target (stdin or @@ file), see docs/fuzzing.md
               Vmtrace.Fuzz replay <target|all> <file|dir…>  runs inputs in-process, one line each
               Vmtrace.Fuzz mutate-one <file> <seed> <out>     one damaged copy, as the experiment makes it (for a directory, the file it damaged)
               Vmtrace.Fuzz mutate --vmtrace PATH [--copies N] [--seed S] [--memory-mb M] [--seconds T] [--report FILE.tsv]
                                                          damaged copies of the corpus traces through vmtrace analyze and dump
        """ + "targets: " + string.Join(", ", FuzzTarget.All.Select(t => t.Name)));
    return 2;
}

static int MutateOne(string input, int seed, string output)
{
    File.WriteAllBytes(output, Mutator.Mutate(File.ReadAllBytes(input), seed));
    Console.WriteLine($"{output}: {Mutator.KindOf(seed)}");
    return 0;
}

static int Mutate(string[] options)
{
    string? Value(string name)
    {
        int i = Array.IndexOf(options, name);
        return i >= 0 && i + 1 < options.Length ? options[i + 1] : null;
    }
    string repo = RepoRoot.Find();
    string vmtrace = Value("--vmtrace") ?? Path.Combine(repo, "src/Vmtrace.Cli/bin/Release/net10.0/vmtrace");
    int copies = int.Parse(Value("--copies") ?? "200", CultureInfo.InvariantCulture);
    int seed = int.Parse(Value("--seed") ?? "1", CultureInfo.InvariantCulture);
    long memory = long.Parse(Value("--memory-mb") ?? "1536", CultureInfo.InvariantCulture) * 1024 * 1024;
    double seconds = double.Parse(Value("--seconds") ?? "20", CultureInfo.InvariantCulture);
    string corpus = Value("--corpus") ?? Path.GetFullPath(Path.Combine(repo, "..", "shared", "traces"));
    string work = Path.Combine(Path.GetTempPath(), "vmtrace-mutate-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    Directory.CreateDirectory(work);
    var inputs = MutationExperiment.DefaultInputs(corpus, Path.Combine(repo, "samples"), Path.Combine(work, "unpacked"));
    using var tsv = Value("--report") is { } report ? new StreamWriter(report) : null;
    var experiment = new MutationExperiment(vmtrace, work, memory, seconds);
    var results = experiment.Run(inputs, seed, copies, Console.Out, tsv);
    foreach (var command in new[] { "analyze", "dump" })
    {
        var runs = results.Where(r => r.Command == command).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{command}: {runs.Count} runs, over {memory / 1048576} MiB: {runs.Count(r => r.Verdict.StartsWith("over-memory", StringComparison.Ordinal))}, " +
            $"over {seconds} s: {runs.Count(r => r.Verdict.StartsWith("over-time", StringComparison.Ordinal))}, crashes: {runs.Count(r => r.Verdict == "crash")}, " +
            $"refused: {runs.Count(r => r.Verdict == "refused")}, worst peak RSS {runs.Max(r => r.PeakRssBytes) / 1048576.0:F0} MiB, worst time {runs.Max(r => r.Seconds):F1} s"));
    }
    return 0;
}
