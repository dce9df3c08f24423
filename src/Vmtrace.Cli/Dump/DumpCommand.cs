using System.CommandLine;
using System.Globalization;
using System.Text;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace dump</c>: every event as one line, or counts per event name with --stats.</summary>
internal static class DumpCommand
{
    public const string Usage = """
          dump <trace> [--stats] [--limit N] [--no-progress]
              one line per event (time, cpu, tid, name, fields); --stats prints counts per event name
              and lost events instead. A trace is a CTF directory, a trace-cmd trace.dat, a qemu trace
              log, a Trace Compass XML stub, or an .xz/.tar.xz of one.
        """;

    public static Command Build()
    {
        var traces = new Argument<string[]>("trace") { Arity = ArgumentArity.ZeroOrMore, Description = "the trace to read (one)" };
        var stats = OptionValues.Flag("--stats", "counts per event name and the losses instead of the events");
        var limit = OptionValues.WholeNumber("--limit", "read at most N events");
        var progress = OptionValues.Flag("--progress", "a progress bar on stderr even when it is not a terminal");
        var noProgress = OptionValues.Flag("--no-progress", "no progress bar");
        var command = new UsageCommand("dump", Usage) { traces, stats, limit, progress, noProgress };
        command.SetAction(parseResult =>
        {
            string[] inputs = OptionValues.Positional(parseResult, traces);
            if (inputs.Length != 1)
                throw new UsageException("dump takes exactly one trace");
            long limitValue = parseResult.GetValue(limit) ?? long.MaxValue;
            if (limitValue < 0)
                throw new UsageException($"--limit must be 0 or more, got {limitValue}");
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            bool showProgress = parseResult.GetValue(progress) || (!parseResult.GetValue(noProgress) && ProgressBar.IsTerminal(stderr));
            return Run(inputs[0], limitValue, parseResult.GetValue(stats), showProgress, stdout, stderr);
        });
        return command;
    }

    private static int Run(string trace, long limit, bool stats, bool progress, TextWriter stdout, TextWriter stderr)
    {
        if (!ReferenceEquals(stdout, Console.Out))
            return RunCore(trace, limit, stats, progress, stdout, stderr);
        // Console.Out flushes every line, a write(2) per event: dump writes through a large buffer instead.
        using var buffered = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        try
        {
            return RunCore(trace, limit, stats, progress, buffered, stderr);
        }
        finally
        {
            buffered.Flush();
        }
    }

    private static int RunCore(string trace, long limit, bool stats, bool progress, TextWriter stdout, TextWriter stderr)
    {
        using var source = TraceOpener.Open(trace);
        using var bar = new ProgressBar(stderr, progress);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        // Per event type, by its dense process-wide id: an array index per event rather than a hash lookup.
        var countsById = new long[64];
        var typesById = new EventType?[64];
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
                int id = e.Type.Id;
                if (id >= countsById.Length)
                {
                    Array.Resize(ref countsById, Math.Max(id + 1, countsById.Length * 2));
                    Array.Resize(ref typesById, countsById.Length);
                }
                if (countsById[id]++ == 0)
                    typesById[id] = e.Type;
            }
            else
            {
                line.Clear();
                EventFormatter.Append(line, e);
                stdout.WriteLine(line);
            }
            bar.Tick(n, source);
        }
        bar.Dispose();

        var diag = TraceOpener.DiagnosticsOf(source);
        if (stats)
        {
            for (int id = 0; id < countsById.Length; id++)
            {
                if (typesById[id] is not { } type)
                    continue;
                counts.TryGetValue(type.Name, out long prev);
                counts[type.Name] = prev + countsById[id];
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
