using System.Globalization;
using System.Text;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace dump</c>: every event as one line, or counts per event name with --stats.</summary>
internal static class DumpCommand
{
    private static readonly HashSet<string> Flags = ["--stats", "--no-progress", "--progress"];
    private static readonly HashSet<string> Valued = ["--limit"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!ReferenceEquals(stdout, Console.Out))
            return RunCore(args, stdout, stderr);
        // Console.Out flushes every line, a write(2) per event: dump writes through a large buffer instead.
        using var buffered = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        try
        {
            return RunCore(args, buffered, stderr);
        }
        finally
        {
            buffered.Flush();
        }
    }

    private static int RunCore(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new Options(args, Flags, Valued);
        if (o.Positional.Count != 1)
            throw new UsageException("dump takes exactly one trace");
        long limit = o.Long("--limit") ?? long.MaxValue;
        if (limit < 0)
            throw new UsageException($"--limit must be 0 or more, got {limit}");
        bool stats = o.Flag("--stats");
        bool progress = o.Flag("--progress") || (!o.Flag("--no-progress") && ProgressBar.IsTerminal(stderr));

        using var source = TraceOpener.Open(o.Positional[0]);
        using var bar = new ProgressBar(stderr, progress);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var countsById = new Dictionary<EventType, long>(ReferenceEqualityComparer.Instance);
        long n = 0;
        long first = long.MaxValue, last = long.MinValue;
        var line = new StringBuilder();
        while (n < limit && source.MoveNext())
        {
            var e = source.Current;
            n++;
            if (e.Timestamp < first) first = e.Timestamp;
            if (e.Timestamp > last) last = e.Timestamp;
            if (stats)
            {
                ref long c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(countsById, e.Type, out _);
                c++;
            }
            else
            {
                stdout.WriteLine(EventFormatter.Format(e));
            }
            bar.Tick(n, source);
        }
        bar.Dispose();

        var diag = TraceOpener.DiagnosticsOf(source);
        if (stats)
        {
            foreach (var (type, c) in countsById)
            {
                counts.TryGetValue(type.Name, out long prev);
                counts[type.Name] = prev + c;
            }
            stdout.WriteLine($"trace: {source.Description}");
            stdout.WriteLine($"events: {n}");
            if (n > 0)
            {
                line.Clear();
                line.Append("first: ");
                EventFormatter.AppendTimestamp(line, first);
                line.Append("  last: ");
                EventFormatter.AppendTimestamp(line, last);
                stdout.WriteLine(line.ToString());
            }
            foreach (var (name, c) in counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c,10} {name}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lost events: {diag.LostEvents} (reported {diag.LossReports} times), lost packets: {diag.LostPackets}, skipped bytes: {diag.SkippedBytes}, errors: {diag.ErrorCount}, out-of-order: {diag.OutOfOrderEvents}"));
        }
        foreach (var err in diag.Errors)
            stderr.WriteLine($"vmtrace: warning: {err.Message}");
        if (diag.ErrorCount > diag.Errors.Count)
            stderr.WriteLine($"vmtrace: warning: {diag.ErrorCount - diag.Errors.Count} more errors not shown");
        return 0;
    }
}
