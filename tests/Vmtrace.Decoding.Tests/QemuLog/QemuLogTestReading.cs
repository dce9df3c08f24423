namespace Vmtrace.Decoding.Tests.QemuLog;

/// <summary>Copies events out of a source (tests only: allocates).</summary>
internal static class QemuLogTestReading
{
    public sealed record Row(long Timestamp, int Tid, string Name, string Text, EventType Type);

    public static List<Row> ReadAll(EventSource source)
    {
        var rows = new List<Row>();
        while (source.MoveNext())
        {
            var e = source.Current;
            rows.Add(new Row(e.Timestamp, e.Tid, e.Type.Name, EventFormatter.Format(e), e.Type));
        }
        return rows;
    }

    /// <summary>Counts per event name, the way event-counts.txt lists them.</summary>
    public static Dictionary<string, long> CountByName(EventSource source)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (source.MoveNext())
        {
            string name = source.Current.Type.Name;
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }
        return counts;
    }
}
