using System.Globalization;
using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// The rates of docs/queries.md, run against the worker-filled influxd, equal what <c>vmtrace analyze</c> computes
/// for the same windows of the same trace: per second of the windows the data covers, not of the query's range.
/// The expected figures are analyze's JSON counts over its windows' own lengths (end_ns − start_ns).
/// </summary>
public sealed partial class PanelQueryTests
{
    private const long TenSeconds = 10_000_000_000;

    [InfluxFact]
    public async Task DocumentedExitRates_Hip24_EqualAnalyzeCountsOverTheWindowsSeconds()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
        var windows = AnalyzeWindows(FilledInflux.Hosts["hip24"]);
        var (from, _) = influx.HostRange("hip24");

        // Per VM over its windows: Σ exits / Σ window length.
        var perVm = Rows(DocQuery("\"exits_per_s\""), from);
        Assert.NotEmpty(perVm);
        foreach (var (tags, _, value) in perVm)
        {
            var mine = windows.SelectMany(w => w.Vms.Where(v => v.Vm == tags["vm"]).Select(v => (w.Length, v.Exits.Values.Sum()))).ToList();
            double expected = mine.Sum(m => m.Item2) * 1e9 / mine.Sum(m => m.Length);
            Assert.Equal(expected, value, 9);
        }
        Assert.Contains(perVm, r => r.Value > 100);

        // Per reason, per 10 s bucket lying wholly inside the trace's windows: Σ count of the windows starting in it / 10.
        long first = windows.Min(w => w.Start), end = windows.Max(w => w.Start + w.Length);
        var perReason = Rows(DocQuery("GROUP BY time(10s), \"vm\", \"reason\""), from);
        int compared = 0;
        foreach (var (tags, time, value) in perReason.Where(r => r.Time >= first && r.Time + TenSeconds <= end))
        {
            long count = windows.Where(w => w.Start >= time && w.Start < time + TenSeconds)
                .SelectMany(w => w.Vms.Where(v => v.Vm == tags["vm"]))
                .Sum(v => v.Exits.GetValueOrDefault(int.Parse(tags["reason"], CultureInfo.InvariantCulture)));
            Assert.Equal(count / 10.0, value, 9);
            Assert.False(string.IsNullOrEmpty(tags["reason_name"]), $"reason {tags["reason"]} has no name");
            compared++;
        }
        Assert.True(compared >= 10, $"{compared} full 10 s buckets compared");
    }

    [InfluxFact]
    public async Task DocumentedDiskRates_TcgS3_EqualAnalyzeCompletionsOverTheBucketsSeconds()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
        var windows = AnalyzeWindows(FilledInflux.Hosts["tcg-s3"]);
        var (from, _) = influx.HostRange("tcg-s3");
        long first = windows.Min(w => w.Start), end = windows.Max(w => w.Start + w.Length);
        var iops = Rows(DocQuery("AS \"iops\""), from);
        int compared = 0;
        foreach (var (tags, time, value) in iops.Where(r => r.Time >= first && r.Time + TenSeconds <= end))
        {
            long completed = windows.Where(w => w.Start >= time && w.Start < time + TenSeconds)
                .SelectMany(w => w.Vms.Where(v => v.Vm == tags["vm"]))
                .Sum(v => v.Completed.GetValueOrDefault(tags["layer"]));
            Assert.Equal(completed / 10.0, value, 9);
            compared++;
        }
        Assert.True(compared >= 2, $"{compared} full 10 s buckets compared");
        Assert.Contains(iops, r => r.Value > 0);
    }

    /// <summary>The one sql block of docs/queries.md holding <paramref name="marker"/>.</summary>
    private static string DocQuery(string marker)
    {
        string doc = File.ReadAllText(Path.Combine(Corpus.RepoRoot, "docs", "queries.md"));
        return Assert.Single(SqlBlock().Matches(doc).Select(m => m.Groups[1].Value.Trim()), q => q.Contains(marker, StringComparison.Ordinal));
    }

    /// <summary>Runs a documented query from <paramref name="from"/> on: one row per series and time, the tags and the first value.</summary>
    private List<(Dictionary<string, string> Tags, long Time, double Value)> Rows(string query, long from)
    {
        string q = NowMinus().Replace(query, from.ToString(CultureInfo.InvariantCulture)).Replace("time > ", "time >= ", StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(influx.Query(q));
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.False(r.TryGetProperty("error", out var err), $"{q} → {err}");
        var rows = new List<(Dictionary<string, string>, long, double)>();
        foreach (var s in r.GetProperty("series").EnumerateArray())
        {
            var tags = s.GetProperty("tags").EnumerateObject().ToDictionary(t => t.Name, t => t.Value.GetString()!);
            foreach (var v in s.GetProperty("values").EnumerateArray())
                rows.Add((tags, v[0].GetInt64(), v[1].GetDouble()));
        }
        return rows;
    }

    private sealed record AnalyzedVm(string Vm, Dictionary<int, long> Exits, Dictionary<string, long> Completed);

    private sealed record AnalyzedWindow(long Start, long Length, List<AnalyzedVm> Vms);

    /// <summary>
    /// <c>vmtrace analyze --format json</c> of a host's inputs (those its agent replays): each window's start, length,
    /// and per VM its exit counts by reason and its completed disk requests by layer (qemu_disk → qemu, block_disk → block).
    /// </summary>
    private static List<AnalyzedWindow> AnalyzeWindows(string[] inputs)
    {
        string json = VmtraceProcess.Run([.. inputs.Select(Corpus.Path).Prepend("analyze"), "--no-progress", "--format", "json"]);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("windows").EnumerateArray().Select(w => new AnalyzedWindow(
            w.GetProperty("start_ns").GetInt64(),
            w.GetProperty("end_ns").GetInt64() - w.GetProperty("start_ns").GetInt64(),
            w.GetProperty("vms").EnumerateArray().Select(v => new AnalyzedVm(v.GetProperty("vm").GetString()!,
                v.TryGetProperty("exits", out var e)
                    ? e.EnumerateArray().GroupBy(x => x.GetProperty("reason").GetInt32()).ToDictionary(g => g.Key, g => g.Sum(x => x.GetProperty("count").GetInt64()))
                    : [],
                new[] { ("qemu", "qemu_disk"), ("block", "block_disk") }
                    .Where(l => v.TryGetProperty(l.Item2, out var d) && d.ValueKind == JsonValueKind.Object)
                    .ToDictionary(l => l.Item1, l => v.GetProperty(l.Item2).GetProperty("completed").GetInt64()))).ToList())).ToList();
    }
}
