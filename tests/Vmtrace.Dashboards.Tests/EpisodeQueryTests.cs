using System.Collections.Concurrent;
using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// The dashboards' interference-episode queries (the annotations of the VM and Interference dashboards, the Interference
/// dashboard's ranking, culprit and resource panels) run against the worker-filled influxd give what
/// <c>vmtrace analyze --format json</c> computes from the same traces: its <c>interference[]</c> episodes (vm, resource,
/// start_ns, end_ns, duration_ns, severity, advice, culprits[0] = the point's culprit tag). A vmtrace_episode point is one
/// episode at its start, so InfluxQL's sum / count / max / mean over points are those operations over analyze's episodes,
/// grouped the same way; the history host's recording is in the database on each of its days, so its episodes are
/// taken on each, shifted by whole days as its agent replayed them.
/// </summary>
public sealed partial class PanelQueryTests
{
    private static readonly ConcurrentDictionary<string, Lazy<List<AnalyzedEpisode>>> s_episodes = new();

    [InfluxFact]
    public async Task EpisodeAnnotations_EveryHostAndVm_AreAnalyzesEpisodesAsRegions()
    {
        await FillAsync();
        var annotations = Dashboards.Annotations().ToList();
        Assert.Equal(["interference.json", "vm-detail.json"], annotations.Select(a => a.Dashboard).Order(StringComparer.Ordinal));
        int compared = 0;
        foreach (var a in annotations)
        {
            foreach (var host in FilledInflux.Hosts.Keys)
            {
                var range = influx.HostRange(host);
                var episodes = Episodes(host);
                // The VM dashboard's annotations are of its one VM: every VM analyze names on the host, with episodes or not.
                List<string?> vms = a.Query.Contains("$vm", StringComparison.Ordinal)
                    ? [.. VmEntries(host).Select(e => e.Vm.Str("vm")).Distinct()] : [null];
                foreach (var vm in vms)
                {
                    var values = new Dictionary<string, string> { ["host"] = host };
                    if (vm is not null)
                        values["vm"] = vm;
                    var rows = Table(Substitute(a.Query, values, range, "1s"), 0, 0)
                        .OrderBy(r => r.Time).ThenBy(r => r.Text("vm"), StringComparer.Ordinal).ThenBy(r => r.Text("resource"), StringComparer.Ordinal).ToList();
                    var expected = episodes.Where(e => vm is null || e.Vm == vm).ToList();
                    Assert.True(expected.Count == rows.Count, $"{a} {host} {vm}: analyze {expected.Count} episodes, InfluxDB {rows.Count} annotations");
                    foreach (var (e, r) in expected.Zip(rows))
                    {
                        string what = $"{a} {host} {e.Vm} {e.Resource} at {e.StartNs}";
                        Assert.Equal(e.StartNs, r.Time);
                        // Grafana reads times in ms since the epoch: the region ends at end_ns / 10⁶.
                        Near(e.EndNs / 1e6, r.Num(a.TimeEndColumn), what + " region end (ms)");
                        Assert.Equal(e.Advice, r.Text(a.TextColumn));
                        Near(e.Severity, r.Num(a.TitleColumn), what + " severity (title)");
                        Assert.Equal(["vm", "resource", "culprit"], a.TagColumns);
                        Assert.Equal(e.Vm, r.Text("vm"));
                        Assert.Equal(e.Resource, r.Text("resource"));
                        Assert.Equal(e.Culprit, r.Values["culprit"].ValueKind == JsonValueKind.Null ? null : r.Text("culprit"));
                        compared++;
                    }
                }
            }
        }
        Assert.True(compared >= 2, $"{compared} episode annotations compared");
    }

    /// <summary>Fleet-wide (host = All): per host and VM, Σ duration_ns, the number of episodes, the worst and the mean severity.</summary>
    [InfluxFact]
    public async Task InterferenceRanking_FleetWide_IsAnalyzesTimeInEpisodesPerVm()
    {
        await FillAsync();
        var expected = AllEpisodes().GroupBy(e => (e.Host, e.Vm)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.NotEmpty(expected);
        var bar = FleetWide(Panel("VMs by time in interference episodes"));
        var table = FleetWide(Panel("Episodes per VM: count and severity"));
        foreach (var rows in new[] { bar, table })
            Assert.Equal(expected.Keys.Select(k => $"{k.Host}/{k.Vm}").Order(StringComparer.Ordinal),
                rows.Select(r => $"{r.Tags["host"]}/{r.Tags["vm"]}").Order(StringComparer.Ordinal));
        foreach (var r in bar)
            Near(expected[(r.Tags["host"], r.Tags["vm"])].Sum(e => (double)e.DurationNs), r.Num("in episodes"), $"{r.Tags["host"]} {r.Tags["vm"]} in episodes");
        foreach (var r in table)
        {
            var mine = expected[(r.Tags["host"], r.Tags["vm"])];
            string what = $"{r.Tags["host"]} {r.Tags["vm"]}";
            Near(mine.Sum(e => (double)e.DurationNs), r.Num("in episodes"), what + " in episodes");
            Near(mine.Count, r.Num("episodes"), what + " episodes");
            Near(mine.Max(e => e.Severity), r.Num("worst severity"), what + " worst severity");
            Near(mine.Average(e => e.Severity), r.Num("mean severity"), what + " mean severity");
        }
        // The ranking's first VM (the panel sorts by "in episodes", largest first) is analyze's VM longest in episodes.
        var longest = expected.MaxBy(kv => kv.Value.Sum(e => e.DurationNs)).Key;
        var first = bar.MaxBy(r => r.Num("in episodes"))!;
        Assert.Equal(longest, (first.Tags["host"], first.Tags["vm"]));
    }

    /// <summary>
    /// Per host and VM, the (at most) three main culprits by Σ duration_ns of the episodes each is the largest culprit of;
    /// an episode without a culprit counts under the empty name (the point has no culprit tag).
    /// </summary>
    [InfluxFact]
    public async Task InterferenceCulprits_FleetWide_AreAnalyzesLongestMainCulpritsPerVm()
    {
        await FillAsync();
        var expected = AllEpisodes().GroupBy(e => (e.Host, e.Vm))
            .ToDictionary(g => g.Key, g => g.GroupBy(e => e.Culprit ?? "").ToDictionary(c => c.Key, c => c.Sum(e => (double)e.DurationNs)));
        var rows = FleetWide(Panel("Main culprits of each VM's episodes"));
        Assert.Equal(expected.Keys.Select(k => $"{k.Host}/{k.Vm}").Order(StringComparer.Ordinal),
            rows.Select(r => $"{r.Tags["host"]}/{r.Tags["vm"]}").Distinct().Order(StringComparer.Ordinal));
        foreach (var g in rows.GroupBy(r => (Host: r.Tags["host"], Vm: r.Tags["vm"])))
        {
            var culprits = expected[g.Key];
            Assert.Equal(Math.Min(3, culprits.Count), g.Count());
            // An episode without a culprit has no culprit tag: InfluxDB groups it under the empty name.
            static string Culprit(Row r) => r.Values["culprit"].ValueKind == JsonValueKind.Null ? "" : r.Text("culprit");
            foreach (var r in g)
                Near(culprits[Culprit(r)], r.Num("in episodes"), $"{g.Key} culprit {Culprit(r)}");
            // None left out lasted longer than one shown (ties at the cut may go either way).
            double shownMin = g.Min(r => r.Num("in episodes"));
            var shown = g.Select(Culprit).ToHashSet(StringComparer.Ordinal);
            Assert.All(culprits.Where(c => !shown.Contains(c.Key)), c => Assert.True(c.Value <= shownMin, $"{g.Key}: {c.Key} ({c.Value}) left out"));
        }
    }

    /// <summary>Per host, VM and resource: Σ duration_ns and the number of episodes.</summary>
    [InfluxFact]
    public async Task InterferenceByResource_FleetWide_IsAnalyzesEpisodesPerVmAndResource()
    {
        await FillAsync();
        var expected = AllEpisodes().GroupBy(e => (e.Host, e.Vm, e.Resource)).ToDictionary(g => g.Key, g => g.ToList());
        var rows = FleetWide(Panel("Time in episodes by resource"));
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var mine = expected[(r.Tags["host"], r.Tags["vm"], r.Tags["resource"])];
            Near(mine.Sum(e => (double)e.DurationNs), r.Num("in episodes"), $"{r.Tags["host"]} {r.Tags["vm"]} {r.Tags["resource"]}");
            Near(mine.Count, r.Num("episodes"), $"{r.Tags["host"]} {r.Tags["vm"]} {r.Tags["resource"]} count");
        }
    }

    private static string Panel(string title) =>
        Dashboards.Targets().Single(t => t.Dashboard == "interference.json" && t.Panel == title).Query;

    /// <summary>A panel's query as Grafana runs it with host = All (every host) over the range holding every host's data.</summary>
    private List<Row> FleetWide(string query)
    {
        var ranges = FilledInflux.Hosts.Keys.Select(influx.HostRange).ToList();
        var range = (ranges.Min(r => r.From), ranges.Max(r => r.To));
        return Table(Substitute(query.Replace("/^$host$/", "/^.*$/", StringComparison.Ordinal), [], range, "1s"), 0, 0);
    }

    private static IEnumerable<AnalyzedEpisode> AllEpisodes() => FilledInflux.Hosts.Keys.SelectMany(Episodes);

    /// <summary>One of analyze's <c>interference[]</c> episodes of a host, with its largest culprit (null when none is named).</summary>
    private sealed record AnalyzedEpisode(string Host, string Vm, string Resource, long StartNs, long EndNs, long DurationNs, double Severity,
        string Advice, string? Culprit);

    /// <summary>A host's episodes by analyze, in time order; for the history host on each of its days.</summary>
    private static List<AnalyzedEpisode> Episodes(string host) => s_episodes.GetOrAdd(host, h => new Lazy<List<AnalyzedEpisode>>(() =>
    {
        using var doc = JsonDocument.Parse(AnalyzedJson(h));
        var once = doc.RootElement.GetProperty("interference").EnumerateArray().Select(e => new AnalyzedEpisode(h, e.Str("vm"), e.Str("resource"),
            e.GetProperty("start_ns").GetInt64(), e.GetProperty("end_ns").GetInt64(), e.GetProperty("duration_ns").GetInt64(), e.Num("severity"),
            e.Str("advice"), e.GetProperty("culprits").EnumerateArray().Select(c => c.Str("name")).FirstOrDefault())).ToList();
        int days = h == FilledInflux.HistoryHost ? FilledInflux.HistoryDays : 1;
        return [.. Enumerable.Range(0, days).Reverse().SelectMany(d => once.Select(e => e with { StartNs = e.StartNs - (d * Day), EndNs = e.EndNs - (d * Day) }))
            .OrderBy(e => e.StartNs).ThenBy(e => e.Vm, StringComparer.Ordinal).ThenBy(e => e.Resource, StringComparer.Ordinal)];
    })).Value;

    /// <summary>Every host: per host and VM, Σ duration_ns, the number of episodes and the worst severity.</summary>
    [InfluxFact]
    public async Task DocumentedTimeInEpisodes_AllHosts_IsAnalyzesEpisodesPerVm()
    {
        await FillAsync();
        var rows = Table(DocQuery("AS \"in_episodes_ns\""), 0, long.MaxValue / 2);
        var expected = AllEpisodes().GroupBy(e => (e.Host, e.Vm)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var mine = expected[(r.Tags["host"], r.Tags["vm"])];
            string what = $"{r.Tags["host"]} {r.Tags["vm"]}";
            Near(mine.Sum(e => (double)e.DurationNs), r.Num("in_episodes_ns"), what + " in_episodes_ns");
            Near(mine.Count, r.Num("episodes"), what + " episodes");
            Near(mine.Max(e => e.Severity), r.Num("worst_severity"), what + " worst_severity");
        }
    }

    /// <summary>tcg-s2's vmB (on each of the history host's days): its episodes, one row each, by resource and main culprit.</summary>
    [InfluxFact]
    public async Task DocumentedEpisodesOfOneVm_TcgS2VmB_AreAnalyzesEpisodes()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("tcg-s2");
        var rows = Table(DocQuery("\"culprit_kind\", \"culprit_share\", \"advice\""), from, to + 1)
            .OrderBy(r => r.Time).ThenBy(r => r.Tags["resource"], StringComparer.Ordinal).ToList();
        var expected = Episodes("tcg-s2").Where(e => e.Vm == "vmB").ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, rows.Count);
        foreach (var (e, r) in expected.Zip(rows))
        {
            Assert.Equal(e.StartNs, r.Time);
            Assert.Equal(e.Resource, r.Tags["resource"]);
            Assert.Equal(e.Culprit ?? "", r.Tags["culprit"]);
            Near(e.DurationNs, r.Num("duration_ns"), $"vmB {e.StartNs} duration_ns");
            Near(e.Severity, r.Num("severity"), $"vmB {e.StartNs} severity");
            Assert.Equal(e.Advice, r.Text("advice"));
        }
    }
}
