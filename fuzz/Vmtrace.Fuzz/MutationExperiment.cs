using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vmtrace.Decoding.Archives;

namespace Vmtrace.Fuzz;

/// <summary>
/// The mutated-copies experiment: seeded damaged copies of real traces (<see cref="Mutator"/>), each run through
/// the real <c>vmtrace analyze</c> and <c>vmtrace dump --stats</c> as child processes, one at a time, with their
/// peak resident memory (the kernel's VmHWM, polled) and wall time measured and capped. Prints one line per run
/// that went wrong and a summary; a TSV of every run goes to the report file.
/// </summary>
internal sealed class MutationExperiment
{
    private readonly string _vmtrace;
    private readonly string _workDir;
    private readonly long _memoryLimitBytes;
    private readonly double _timeLimitSeconds;

    public MutationExperiment(string vmtrace, string workDir, long memoryLimitBytes, double timeLimitSeconds)
    {
        _vmtrace = vmtrace;
        _workDir = workDir;
        _memoryLimitBytes = memoryLimitBytes;
        _timeLimitSeconds = timeLimitSeconds;
    }

    /// <summary>A trace to damage: a file, or a CTF directory (one of its files is damaged per copy).</summary>
    public sealed record BaseInput(string Name, string Path, bool IsDirectory);

    public sealed record RunResult(int Copy, string Input, MutationKind Kind, int Seed, string Command, int ExitCode, long PeakRssBytes,
        double Seconds, string Verdict, string FirstErrorLine);

    /// <summary>
    /// The default inputs: every kind of trace of the corpus and the samples, xz-compressed ones unpacked first
    /// (into <paramref name="cacheDir"/>) so that the damage reaches the trace readers, plus two archives kept packed.
    /// </summary>
    public static List<BaseInput> DefaultInputs(string corpus, string samples, string cacheDir)
    {
        Directory.CreateDirectory(cacheDir);
        var inputs = new List<BaseInput>();
        void File(string name, string path) => inputs.Add(new BaseInput(name, path, false));
        void Dir(string name, string path) => inputs.Add(new BaseInput(name, path, true));
        string Unpacked(string name, string xz)
        {
            string dest = System.IO.Path.Combine(cacheDir, name);
            if (!System.IO.File.Exists(dest) && !Directory.Exists(dest))
            {
                using var temp = new TempDirectory();
                string unpacked = Decompression.Unpack(xz, temp);
                if (Directory.Exists(unpacked))
                    CopyDirectory(unpacked, dest);
                else
                    System.IO.File.Copy(unpacked, dest);
            }
            return dest;
        }

        File("v7-zlib guest-pair host", System.IO.Path.Combine(corpus, "hip24-kvm-host-guest-pair/host.trace.dat"));
        File("v7-zlib guest-pair guest", System.IO.Path.Combine(corpus, "hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"));
        foreach (var dir in new[] { "hip24-kvm-host-allkvm", "hip24-kvm-host-2vms-46s" })
        {
            foreach (var f in Directory.EnumerateFiles(System.IO.Path.Combine(corpus, dir), "*.dat").Order(StringComparer.Ordinal))
                File($"v7-zlib {dir}", f);
        }
        foreach (var s in new[] { "s2-cpu-contention", "s3-disk-vs-cpu", "s4-net" })
        {
            string d = System.IO.Path.Combine(corpus, "tcg-qemu", s);
            File($"v6 tcg {s}", Unpacked($"tcg-{s}.trace.dat", System.IO.Path.Combine(d, "trace.dat.xz")));
            Dir($"perf-ctf tcg {s}", Unpacked($"tcg-{s}.perf-ctf", System.IO.Path.Combine(d, "perf-ctf.tar.xz")));
        }
        File("v6 sample tcg-3vms", Unpacked("sample-tcg-3vms.trace.dat", System.IO.Path.Combine(samples, "tcg-3vms/trace.dat.xz")));
        File("v6 sample queued-sleep", Unpacked("sample-queued-sleep.trace.dat", System.IO.Path.Combine(samples, "queued-sleep/trace.dat.xz")));
        File("qemu log tcg s3", Unpacked("tcg-s3.qemu-vmD.log", System.IO.Path.Combine(corpus, "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz")));
        File("qemu log tcg s4", Unpacked("tcg-s4.qemu-vmN.log", System.IO.Path.Combine(corpus, "tcg-qemu/s4-net/qemu-vmN.log.xz")));
        File("qemu log sample db", Unpacked("sample-qemu-db.log", System.IO.Path.Combine(samples, "tcg-3vms/qemu-db.log.xz")));
        foreach (var xml in Directory.EnumerateFiles(System.IO.Path.Combine(corpus, "tracecompass-vm-xml-stubs"), "*.xml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            File("xml " + System.IO.Path.GetRelativePath(corpus, xml), xml);
        foreach (var ctf in new[] { "bug446190", "many-threads", "flipping-endianness", "synctraces/scp_src" })
            Dir("lttng-ctf " + ctf, System.IO.Path.Combine(corpus, "tracecompass-test-traces-ctf", ctf));
        File("archive tar.xz perf-ctf s2", System.IO.Path.Combine(corpus, "tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz"));
        File("archive xz qemu log", System.IO.Path.Combine(samples, "tcg-3vms/qemu-web.log.xz"));
        return inputs;
    }

    public List<RunResult> Run(IReadOnlyList<BaseInput> inputs, int firstSeed, int copies, TextWriter log, TextWriter? tsv)
    {
        var results = new List<RunResult>();
        tsv?.WriteLine("copy\tinput\tkind\tseed\tcommand\texit\tpeak_rss_mb\tseconds\tverdict\tfirst_error");
        for (int i = 0; i < copies; i++)
        {
            var input = inputs[i % inputs.Count];
            int seed = firstSeed + i;
            string copyPath = MakeCopy(input, seed, out string damaged);
            try
            {
                foreach (var command in new[] { "analyze", "dump" })
                {
                    string[] args = command == "analyze"
                        ? ["analyze", copyPath, "--format", "json", "--no-progress", "--no-inventory"]
                        : ["dump", copyPath, "--stats", "--no-progress"];
                    var r = RunChild(i, input.Name + damaged, seed, command, args);
                    results.Add(r);
                    tsv?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Copy}\t{r.Input}\t{r.Kind}\t{r.Seed}\t{r.Command}\t{r.ExitCode}\t{r.PeakRssBytes / 1048576.0:F0}\t{r.Seconds:F2}\t{r.Verdict}\t{r.FirstErrorLine}"));
                    tsv?.Flush();
                    if (r.Verdict is not ("ok" or "refused"))
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"copy {r.Copy} seed {r.Seed} {r.Kind} {r.Input}: {r.Command} {r.Verdict} (exit {r.ExitCode}, {r.PeakRssBytes / 1048576.0:F0} MiB, {r.Seconds:F1} s) {r.FirstErrorLine}"));
                }
            }
            finally
            {
                if (input.IsDirectory)
                    Directory.Delete(copyPath, recursive: true);
                else
                    System.IO.File.Delete(copyPath);
            }
        }
        return results;
    }

    /// <summary>The damaged copy of <paramref name="input"/> for <paramref name="seed"/>; for a directory, which file was damaged.</summary>
    private string MakeCopy(BaseInput input, int seed, out string damaged)
    {
        damaged = "";
        if (!input.IsDirectory)
        {
            // Keep the name's ending: the opener recognises archives by it.
            string name = System.IO.Path.GetFileName(input.Path);
            string path = System.IO.Path.Combine(_workDir, $"copy-{seed}-{name}");
            System.IO.File.WriteAllBytes(path, Mutator.Mutate(System.IO.File.ReadAllBytes(input.Path), seed));
            return path;
        }
        string dir = System.IO.Path.Combine(_workDir, $"copy-{seed}");
        CopyDirectory(input.Path, dir);
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".idx", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        string victim = files[new Random(seed).Next(files.Count)];
        System.IO.File.WriteAllBytes(victim, Mutator.Mutate(System.IO.File.ReadAllBytes(victim), seed));
        damaged = " [" + System.IO.Path.GetRelativePath(dir, victim) + "]";
        return dir;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string dest = System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, f));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dest)!);
            System.IO.File.Copy(f, dest);
        }
    }

    private RunResult RunChild(int copy, string input, int seed, string command, string[] args)
    {
        string stderrPath = System.IO.Path.Combine(_workDir, "stderr.txt");
        string rssPath = System.IO.Path.Combine(_workDir, "rss.txt");
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
        };
        // GNU time reports the exact peak RSS (wait4's ru_maxrss) of vmtrace, which runs as its child; polling that
        // child's VmHWM meanwhile enforces the limits. The output is thrown away (a json of millions of windows is not the point).
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec /usr/bin/time -f %M -o \"$VMTRACE_FUZZ_RSS\" \"$0\" \"$@\" >/dev/null 2>\"$VMTRACE_FUZZ_STDERR\"");
        psi.ArgumentList.Add(_vmtrace);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["VMTRACE_FUZZ_STDERR"] = stderrPath;
        psi.Environment["VMTRACE_FUZZ_RSS"] = rssPath;
        File.Delete(rssPath);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        long peak = 0;
        string verdict = "";
        // The kill limits sit a little above the thresholds so that "over" is measured, not caused by the kill.
        double killAfter = _timeLimitSeconds * 1.25;
        long killAbove = _memoryLimitBytes + (_memoryLimitBytes / 3);
        while (!p.WaitForExit(20))
        {
            peak = Math.Max(peak, PeakRssOfChildren(p.Id));
            if (peak > killAbove)
            {
                verdict = "over-memory (killed)";
                Kill(p);
                break;
            }
            if (clock.Elapsed.TotalSeconds > killAfter)
            {
                verdict = "over-time (killed)";
                Kill(p);
                break;
            }
        }
        p.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        if (File.Exists(rssPath) && long.TryParse(File.ReadAllLines(rssPath).LastOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
            peak = Math.Max(peak, kb * 1024);
        string stderr = System.IO.File.Exists(stderrPath) ? System.IO.File.ReadAllText(stderrPath) : "";
        string firstLine = stderr.Split('\n', 2)[0].Replace('\t', ' ');
        if (firstLine.Length > 300)
            firstLine = firstLine[..300];
        if (verdict.Length == 0)
        {
            bool crashed = p.ExitCode is not (0 or 1) || stderr.Contains("Unhandled exception", StringComparison.Ordinal)
                || stderr.Contains("   at ", StringComparison.Ordinal);
            verdict = crashed ? "crash"
                : peak > _memoryLimitBytes ? "over-memory"
                : seconds > _timeLimitSeconds ? "over-time"
                : p.ExitCode == 1 ? "refused" : "ok";
            if (crashed)
                firstLine = FirstUsefulLine(stderr);
        }
        return new RunResult(copy, input, Mutator.KindOf(seed), seed, command, verdict.Contains("killed", StringComparison.Ordinal) ? -9 : p.ExitCode,
            peak, seconds, verdict, firstLine);
    }

    private static string FirstUsefulLine(string stderr)
    {
        var lines = stderr.Split('\n');
        var sb = new StringBuilder();
        foreach (var l in lines.Take(3))
            sb.Append(l.Trim()).Append(" | ");
        return sb.ToString().Replace('\t', ' ');
    }

    private static void Kill(Process p)
    {
        try
        {
            p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>The highest peak resident set (VmHWM) of the children of <paramref name="pid"/>, 0 when they are gone.</summary>
    private static long PeakRssOfChildren(int pid)
    {
        long peak = 0;
        try
        {
            foreach (var child in File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                peak = Math.Max(peak, PeakRss(int.Parse(child, CultureInfo.InvariantCulture)));
        }
        catch (IOException)
        {
        }
        return peak;
    }

    /// <summary>The process's peak resident set (VmHWM), 0 when it is gone.</summary>
    private static long PeakRss(int pid)
    {
        try
        {
            foreach (var line in System.IO.File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
