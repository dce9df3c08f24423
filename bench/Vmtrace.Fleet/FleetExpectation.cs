using System.Text.Json.Nodes;
using Vmtrace.Analysis;
using Vmtrace.Pipeline.Tests;

namespace Vmtrace.Fleet;

/// <summary>
/// What InfluxDB must hold for each host: <c>vmtrace analyze --format line-protocol</c> of its trace. A host's points
/// are its trace's moved by the host's shift (a whole number of seconds, so windows cut the events where they cut the
/// recorded ones) under the host's id; they are compared after moving them back (the point's time and every field
/// that is a time on the trace clock) and naming them as analyze did, so one analyze per trace serves every host.
/// </summary>
public static class FleetExpectation
{
    /// <summary>Fields holding a time on the trace clock, per measurement, from the metric schema (e.g. an episode's end_ns).</summary>
    private static readonly Dictionary<string, HashSet<string>> s_timeFields = MetricSchema.LineProtocol.All
        .GroupBy(g => g.Name)
        .ToDictionary(g => g.Key, g => g.SelectMany(x => x.Fields).Where(f => f.Kind == MetricKind.TimestampNs).Select(f => f.Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>What <c>vmtrace analyze --format line-protocol --host HOST</c> prints for the trace, as comparable points.</summary>
    public static async Task<SortedSet<string>> AnalyzeAsync(FleetTrace trace)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["analyze", .. trace.Inputs, "--format", "line-protocol", "--host", trace.Name, "--no-progress"], stdout, stderr);
        if (rc != 0)
            throw new InvalidOperationException($"vmtrace analyze {string.Join(' ', trace.Inputs)} exited {rc}: {stderr}");
        return PointSet.FromLineProtocol(stdout.ToString());
    }

    /// <summary>
    /// An InfluxQL answer (<c>SELECT * … GROUP BY *</c>, epoch=ns) for one host, moved back by <paramref name="shiftNs"/>
    /// and with its host tag set to <paramref name="analyzedHost"/>, as comparable points.
    /// </summary>
    public static SortedSet<string> Unshift(string influxQlJson, long shiftNs, string analyzedHost)
    {
        var root = JsonNode.Parse(influxQlJson) ?? throw new InvalidOperationException("empty InfluxQL answer");
        foreach (var result in root["results"]?.AsArray() ?? [])
        {
            foreach (var series in result?["series"]?.AsArray() ?? [])
            {
                if (series is null)
                    continue;
                if (series["tags"] is JsonObject tags && tags.ContainsKey("host"))
                    tags["host"] = analyzedHost;
                string name = series["name"]!.GetValue<string>();
                var columns = series["columns"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
                var timeFields = s_timeFields.GetValueOrDefault(name) ?? [];
                var shifted = Enumerable.Range(0, columns.Count).Where(i => i == 0 || timeFields.Contains(columns[i])).ToList();
                foreach (var row in series["values"]!.AsArray())
                {
                    var values = row!.AsArray();
                    foreach (int i in shifted)
                    {
                        if (values[i] is JsonValue v)
                            values[i] = v.GetValue<long>() - shiftNs;
                    }
                }
            }
        }
        return PointSet.FromInfluxQl(root.ToJsonString());
    }
}
