using Vmtrace.Decoding.Ctf;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Small helpers shared by the CTF tests: read a whole source into counts or copies.</summary>
internal static class CtfReading
{
    public sealed record Summary(Dictionary<string, long> Counts, long First, long Last, long Total, SourceDiagnostics Diagnostics);

    public static Summary Summarize(EventSource source, bool includeLost = false)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        long first = long.MaxValue, last = long.MinValue, total = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            if (!includeLost && e.Known == KnownEvent.LostEvents)
                continue;
            counts[e.Type.Name] = counts.GetValueOrDefault(e.Type.Name) + 1;
            first = Math.Min(first, e.Timestamp);
            last = Math.Max(last, e.Timestamp);
            total++;
        }
        return new Summary(counts, first, last, total, TraceOpener.DiagnosticsOf(source));
    }

    public static Summary Summarize(string directory)
    {
        using var source = CtfTraceSource.Open(directory);
        return Summarize(source);
    }

    /// <summary>The first <paramref name="limit"/> events as formatted lines.</summary>
    public static List<string> Lines(EventSource source, int limit = int.MaxValue)
    {
        var lines = new List<string>();
        while (lines.Count < limit && source.MoveNext())
            lines.Add(EventFormatter.Format(source.Current));
        return lines;
    }
}
