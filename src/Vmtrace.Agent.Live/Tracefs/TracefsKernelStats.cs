using System.Globalization;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>
/// The kernel's own per-CPU counters of an instance (<c>per_cpu/cpuN/stats</c>), summed: events
/// overwritten before they were read (overwrite mode), events dropped because the buffer was full
/// (no-overwrite mode), and events read.
/// </summary>
public sealed class TracefsKernelStats
{
    public long Entries { get; private set; }
    public long Overrun { get; private set; }
    public long CommitOverrun { get; private set; }
    public long DroppedEvents { get; private set; }
    public long ReadEvents { get; private set; }

    /// <summary>Events the kernel lost for this instance: overwritten plus dropped.</summary>
    public long Lost => Overrun + CommitOverrun + DroppedEvents;

    public void Add(string statsText)
    {
        foreach (var line in statsText.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                continue;
            string key = line[..colon].Trim();
            if (!long.TryParse(line[(colon + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                continue;
            switch (key)
            {
                case "entries": Entries += value; break;
                case "overrun": Overrun += value; break;
                case "commit overrun": CommitOverrun += value; break;
                case "dropped events": DroppedEvents += value; break;
                case "read events": ReadEvents += value; break;
            }
        }
    }
}
