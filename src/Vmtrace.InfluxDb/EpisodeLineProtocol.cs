using Vmtrace.Analysis;
using Layout = Vmtrace.Analysis.MetricSchema.LineProtocol;

namespace Vmtrace.InfluxDb;

/// <summary>
/// The <c>vmtrace_episode</c> point of one closed interference episode (docs/schema.md): the same text from
/// <c>vmtrace analyze --format line-protocol</c> and from the worker. Timestamp = the episode's start, so a Grafana
/// annotation query shows it as a region (time, time + duration_ns) with the advice as its text.
/// </summary>
public static class EpisodeLineProtocol
{
    public static void Write(LineProtocolWriter w, Episode episode, string host)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(episode);
        w.Begin(Layout.Episode.Name).NameTag(MetricSchema.Tags.Host.Name, host).NameTag(MetricSchema.Tags.Vm.Name, episode.Vm)
            .Tag(MetricSchema.Tags.Resource.Name, episode.Resource);
        if (episode.TopCulprit is { } culprit)
            w.NameTag(MetricSchema.Tags.Culprit.Name, culprit.Name);
        Layout.Episode.Write(new LineFields(w), episode);
        w.End(episode.StartNs);
    }
}
