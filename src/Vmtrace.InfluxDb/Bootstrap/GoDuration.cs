using System.Globalization;

namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>Parses the Go durations InfluxDB shows (<c>168h0m0s</c>, <c>1h30m</c>, <c>500ms</c>, <c>0s</c> = infinite).</summary>
internal static class GoDuration
{
    public static TimeSpan Parse(string text)
    {
        long ticks = 0;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                i++;
            if (start == i)
                throw new FormatException($"not a Go duration: '{text}'");
            double number = double.Parse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]))
                i++;
            double unitTicks = text[unitStart..i] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ns" => 0.01,
                _ => throw new FormatException($"not a Go duration: '{text}'"),
            };
            ticks += (long)Math.Round(number * unitTicks);
        }
        return TimeSpan.FromTicks(ticks);
    }
}
