using System.Globalization;

namespace Vmtrace.Cli;

/// <summary>Parses the time arguments of <c>analyze</c>: durations (<c>--window</c>) and range bounds (<c>--from</c>/<c>--to</c>).</summary>
internal static class TimeArgument
{
    private static readonly (string Suffix, decimal Ns)[] Units =
        [("ns", 1m), ("us", 1_000m), ("µs", 1_000m), ("ms", 1_000_000m), ("s", 1_000_000_000m), ("m", 60_000_000_000m)];

    /// <summary>"1s", "500ms", "250us", "100ns", "2m", or a bare number of seconds ("0.5").</summary>
    public static long ParseDuration(string option, string text)
    {
        string t = text.Trim();
        decimal scale = 1_000_000_000m;
        foreach (var (suffix, ns) in Units.OrderByDescending(u => u.Suffix.Length))
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                scale = ns;
                t = t[..^suffix.Length];
                break;
            }
        }
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
            throw new UsageException($"{option} expects a duration like 1s, 500ms, 250us or 100ns, got '{text}'");
        decimal result = value * scale;
        if (result < 1 || result > long.MaxValue)
            throw new UsageException($"{option} is out of range: '{text}'");
        return (long)result;
    }

    /// <summary>
    /// A range bound: <c>+DURATION</c> is relative to the trace's first event ("+2.5s", "+500ms", "+3"),
    /// anything else is an absolute time in seconds on the trace's clock ("1795364913.5"), as the trace
    /// prints it (<c>vmtrace dump</c>). Returns (value ns, relative?).
    /// </summary>
    public static (long Ns, bool Relative) ParseBound(string option, string text)
    {
        string t = text.Trim();
        if (t.StartsWith('+'))
            return (ParseDurationOrZero(option, t[1..]), true);
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal seconds))
            throw new UsageException($"{option} expects seconds on the trace clock (e.g. 1795364913.5) or +DURATION from the trace start (e.g. +2s), got '{text}'");
        decimal ns = seconds * 1_000_000_000m;
        if (ns > long.MaxValue)
            throw new UsageException($"{option} is out of range: '{text}'");
        return ((long)ns, false);
    }

    private static long ParseDurationOrZero(string option, string text) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal z) && z == 0 ? 0 : ParseDuration(option, text);
}
