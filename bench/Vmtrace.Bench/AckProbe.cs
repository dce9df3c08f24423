using System.Diagnostics;
using System.Globalization;
using Vmtrace.Worker;

namespace Vmtrace.Bench;

/// <summary>
/// Wraps the worker's InfluxDB writer: once a write is acknowledged, notes the wall time (Stopwatch ticks)
/// for every window whose points it carried (a window point's timestamp is its window start), and when that write
/// started (the part of a window's lag spent in the InfluxDB write). A window's time is that of the write that
/// acknowledged its last point.
/// </summary>
internal sealed class AckProbe(IPointWriter inner) : IPointWriter
{
    private readonly Dictionary<long, (long Started, long Acked)> _acked = [];

    public async Task<PointWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var result = await inner.WriteAsync(lines, cancellationToken).ConfigureAwait(false);
        long now = Stopwatch.GetTimestamp();
        lock (_acked)
        {
            foreach (var line in lines)
            {
                if (!line.StartsWith("vmtrace_", StringComparison.Ordinal))
                    continue; // pipeline_health
                int space = line.LastIndexOf(' ');
                if (space > 0 && long.TryParse(line.AsSpan(space + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ts))
                    _acked[ts] = (started, now);
            }
        }
        return result;
    }

    public Dictionary<long, (long Started, long Acked)> Snapshot()
    {
        lock (_acked)
            return new Dictionary<long, (long Started, long Acked)>(_acked);
    }
}
