using Vmtrace.Analysis;

namespace Vmtrace.InfluxDb;

/// <summary>
/// How far one host's analysis had to guess or leave things out (<see cref="AnalysisCounters"/>, counts since the
/// agent session started): a <c>pipeline_health</c> point tagged <c>component=analysis</c> and the host, in event
/// time, so the worker writes the same point again when it reprocesses the same records. Fields as
/// <see cref="MetricSchema.LineProtocol.AnalysisHealth"/> lays them out.
/// </summary>
public static class AnalysisHealthLineProtocol
{
    public static void Write(LineProtocolWriter w, string host, AnalysisCounters c, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(c);
        var group = MetricSchema.LineProtocol.AnalysisHealth;
        w.Begin(group.Name).Tag(MetricSchema.Tags.Component.Name, "analysis").NameTag(MetricSchema.Tags.Host.Name, host);
        group.Write(new LineFields(w), c);
        w.End(timestamp);
    }
}
