using System.Globalization;

namespace Vmtrace.Cli.Tests;

/// <summary>Reads back what <c>vmtrace dump --stats</c> printed.</summary>
internal static class StatsOutput
{
    /// <summary>The "     13830 thread_pool_submit" lines: count per event name.</summary>
    public static Dictionary<string, long> Counts(string[] lines)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                counts[parts[1]] = n;
        }
        return counts;
    }
}
