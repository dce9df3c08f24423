using Vmtrace.Decoding.Archives;

namespace Vmtrace.Bench;

/// <summary>
/// <c>decode</c>: vmtrace's readers against the reference tools on the same real traces, side by side.
/// Compressed inputs are unpacked to a temporary file first, outside every timing.
/// </summary>
internal static class DecodeBenchmark
{
    public static int Run(string tracesDir, int runs, TextWriter output)
    {
        if (!Directory.Exists(tracesDir))
        {
            Console.Error.WriteLine($"vmtrace-bench: traces directory not found: {tracesDir}");
            return 1;
        }
        output.WriteLine($"vmtrace decode benchmark: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, best of {runs} runs after a warm-up");
        output.WriteLine($"traces: {Path.GetFullPath(tracesDir)}");
        output.WriteLine($"load average before: {LoadAverage()}");
        output.WriteLine();

        using var temp = new TempDirectory();
        var rows = new List<Measurement>();

        // CTF (LTTng 2.8 kernel trace, 8 streams) against babeltrace2's dummy sink: full decoding, no text output.
        string ctf = Path.Combine(tracesDir, "tracecompass-test-traces-ctf", "many-threads");
        rows.AddRange(Compare("ctf many-threads", ctf, runs,
            "babeltrace2 -o dummy", "babeltrace2", ["-o", "dummy", ctf], headerLines: 0, textArgs: [ctf]));

        // CTF written by `perf data convert --to-ctf` (another producer, per-event perf_tid/perf_pid), same tools.
        string perfCtf = UnpackedDirectory(Path.Combine(tracesDir, "tcg-qemu", "s2-cpu-contention", "perf-ctf.tar.xz"), temp, "s2-perf-ctf");
        rows.AddRange(Compare("perf ctf s2-cpu-contention", perfCtf, runs,
            "babeltrace2 -o dummy", "babeltrace2", ["-o", "dummy", perfCtf], headerLines: 0, textArgs: [perfCtf]));

        // trace-cmd v6 file (uncompressed pages) against trace-cmd report.
        string s3 = Unpacked(Path.Combine(tracesDir, "tcg-qemu", "s3-disk-vs-cpu", "trace.dat.xz"), temp, "s3-trace.dat");
        var s3Rows = Compare("trace-cmd s3-disk-vs-cpu", s3, runs,
            "trace-cmd report -R", "trace-cmd", ["report", "-R", "-i", s3], headerLines: 1, textArgs: ["report", "-R", "-i", s3]);
        rows.AddRange(s3Rows);
        rows.Add(ExternalToolRunner.Measure("trace-cmd s3-disk-vs-cpu", "trace-cmd report", "trace-cmd", ["report", "-i", s3],
            s3Rows[0].Events ?? s3Rows[1].Events, runs) with { Note = "pretty printing: slower than -R, not used as the reference" });

        // trace-cmd v7 with zlib-compressed pages: no reference tool can read it here.
        string hip24 = Path.Combine(tracesDir, "hip24-kvm-host-2vms-46s", "host.trace.dat");
        rows.Add(VmtraceDecodeRunner.Measure("trace-cmd v7 zlib hip24-2vms-46s", hip24, runs) with
        {
            Note = "no reference: trace-cmd 3.1.6 here has no zlib support (\"cannot uncompress the file\")",
        });

        // qemu log backend text: no reference tool either.
        string qemuLog = Unpacked(Path.Combine(tracesDir, "tcg-qemu", "s3-disk-vs-cpu", "qemu-vmD.log.xz"), temp, "qemu-vmD.log");
        var q = VmtraceDecodeRunner.Measure("qemu log vmD", qemuLog, runs);
        rows.Add(q with { Note = Join(q.Note, "no reference tool reads qemu's log backend") });

        output.Write(ResultTable.Format(rows));
        output.WriteLine();
        output.WriteLine($"load average after: {LoadAverage()}");
        output.WriteLine("wall s: best wall time; vmtrace: TraceOpener.Open + MoveNext over every event, reading every value slot, in-process");
        output.WriteLine("after a warm-up run; tools: whole process (start-up included) with stdout to /dev/null.");
        output.WriteLine("cpu s: best user+system CPU time (getrusage: the decoding thread; the tool's process). Steadier than wall");
        output.WriteLine("time when the machine is shared; the (cpu) ratio is the reference's CPU time over ours.");
        output.WriteLine("B/event run: bytes allocated on the decoding thread per event over a steady-state run, Open included;");
        output.WriteLine("B/event loop: the same for the MoveNext loop alone.");
        output.WriteLine("targets: vmtrace >= 3x babeltrace2 on CTF, < 1 byte allocated per event.");
        return 0;
    }

    /// <summary>vmtrace and a reference tool on one input; the vmtrace row carries the ratio.</summary>
    private static Measurement[] Compare(string input, string path, int runs, string toolLabel, string tool, string[] toolArgs,
        int headerLines, string[] textArgs)
    {
        var mine = VmtraceDecodeRunner.Measure(input, path, runs);
        long? events = mine.Events;
        string note = "";
        if (events is null)
        {
            events = ExternalToolRunner.CountOutputLines(tool, textArgs, headerLines);
            note = "events counted from the tool's text output";
        }
        var theirs = ExternalToolRunner.Measure(input, toolLabel, tool, toolArgs, events, runs);
        theirs = theirs with { Note = Join(theirs.Note, note) };
        return [mine with { Reference = theirs }, theirs];
    }

    private static string Unpacked(string xzPath, TempDirectory temp, string name)
    {
        if (!File.Exists(xzPath))
            return xzPath; // the row reports it as unreadable
        string dir = Path.Combine(temp.Path, Path.GetFileNameWithoutExtension(name));
        Directory.CreateDirectory(dir);
        using var unpackDir = new TempDirectory();
        string unpacked = Decompression.Unpack(xzPath, unpackDir);
        string dest = Path.Combine(dir, name);
        File.Move(unpacked, dest);
        return dest;
    }

    internal static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string UnpackedDirectory(string tarXzPath, TempDirectory temp, string name)
    {
        if (!File.Exists(tarXzPath))
            return tarXzPath;
        string dest = Path.Combine(temp.Path, name);
        using var unpackDir = new TempDirectory();
        Directory.Move(Decompression.Unpack(tarXzPath, unpackDir), dest);
        return dest;
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "; " + b;
}
