using Vmtrace.Decoding;
using Vmtrace.Decoding.Archives;

namespace Vmtrace.Fleet;

/// <summary>
/// A trace ready to be replayed many times: compressed inputs unpacked once (a host's agent reads plain files), its
/// vmmap.json found beside the original, its events counted and its span measured.
/// </summary>
public sealed record PreparedTrace(IReadOnlyList<string> Inputs, string? Inventory, long Events, double SpanSeconds)
{
    public static PreparedTrace Of(FleetTrace trace, TempDirectory temp)
    {
        var inputs = trace.Inputs.Select(p => Decompression.IsXz(p) ? Decompression.Unpack(p, temp) : p).ToList();
        long events = 0, first = long.MaxValue, last = long.MinValue;
        using (var source = TraceOpener.OpenAll(inputs))
        {
            while (source.MoveNext())
            {
                long t = source.Current.Timestamp;
                first = Math.Min(first, t);
                last = Math.Max(last, t);
                events++;
            }
        }
        if (events == 0)
            throw new InvalidOperationException($"trace {trace.Name} has no event");
        return new PreparedTrace(inputs, RecordingDirectory.FindInventory(trace.Inputs), events, (last - first) / 1e9);
    }
}
