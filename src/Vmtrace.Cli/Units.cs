using System.Globalization;

namespace Vmtrace.Cli;

/// <summary>Human-readable durations and sizes for the tables.</summary>
internal static class Units
{
    public static string Duration(double ns)
    {
        double a = Math.Abs(ns);
        return a switch
        {
            >= 1e9 => (ns / 1e9).ToString("0.000", CultureInfo.InvariantCulture) + " s",
            >= 1e6 => (ns / 1e6).ToString("0.000", CultureInfo.InvariantCulture) + " ms",
            >= 1e3 => (ns / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " µs",
            _ => ns.ToString("0", CultureInfo.InvariantCulture) + " ns",
        };
    }

    /// <summary>A count of TSC cycles (traces without a TSC2NSEC conversion), never shown as time.</summary>
    public static string Cycles(double cycles)
    {
        double a = Math.Abs(cycles);
        return a switch
        {
            >= 1e9 => (cycles / 1e9).ToString("0.000", CultureInfo.InvariantCulture) + " Gcyc",
            >= 1e6 => (cycles / 1e6).ToString("0.000", CultureInfo.InvariantCulture) + " Mcyc",
            >= 1e3 => (cycles / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " kcyc",
            _ => cycles.ToString("0", CultureInfo.InvariantCulture) + " cyc",
        };
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    public static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(long ns)
    {
        var sb = new System.Text.StringBuilder();
        Vmtrace.Decoding.EventFormatter.AppendTimestamp(sb, ns);
        return sb.ToString();
    }
}
