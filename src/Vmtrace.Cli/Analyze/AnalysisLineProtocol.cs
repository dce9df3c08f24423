using System.Text;
using Vmtrace.InfluxDb;

namespace Vmtrace.Cli;

/// <summary>
/// <c>--format line-protocol</c>: every window's points, then the interference episodes' points, then (with <c>--guest</c>)
/// the guest threads' points at the range's end, exactly as the worker writes them to InfluxDB.
/// </summary>
internal static class AnalysisLineProtocol
{
    public static void Write(TextWriter o, AnalysisReport r)
    {
        var sb = new StringBuilder();
        var writer = new LineProtocolWriter(sb);
        foreach (var w in r.Windows)
        {
            MetricsLineProtocol.WriteWindow(writer, w, r.Host);
            o.Write(sb);
            sb.Clear();
        }
        foreach (var e in r.Episodes)
            EpisodeLineProtocol.Write(writer, e, r.Host);
        foreach (var g in r.Guests ?? [])
            GuestLineProtocol.Write(writer, g.Metrics, r.Host, r.RangeEndNs);
        o.Write(sb);
    }
}
