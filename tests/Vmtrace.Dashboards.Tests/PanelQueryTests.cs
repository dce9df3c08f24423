using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// Every panel target of every dashboard, and every query of docs/queries.md, run against a real influxd that
/// the real worker filled from the real traces (<see cref="FilledInflux"/>), with the template variables set to
/// the values the dashboards' own SHOW TAG VALUES return, $timeFilter to the data's range and $__interval to what
/// Grafana makes of the range and the panel's minimum interval. Each parses, and each returns a series for some
/// existing host / VM; the panels that stay empty on all the TCG hosts are exactly the KVM-exit ones (QEMU under
/// TCG has no kvm_* events). The capacity panels, forecast included, are filled by the history host's two weeks.
/// </summary>
public sealed partial class PanelQueryTests(FilledInflux influx) : IClassFixture<FilledInflux>
{
    /// <summary>
    /// Panels that only KVM events fill: empty on every TCG trace, filled by hip24 (its guest address spaces all unknown). (The fleet's exit-rate ranking
    /// is not among them: it reads vmtrace_vm's exits field, which TCG VMs report as 0.)
    /// </summary>
    private static readonly string[] KvmOnly =
    [
        "vm-detail.json / Guest mode at entry (kernel / user)",
        "vm-detail.json / Guest mode per vCPU",
        "vm-detail.json / Guest address spaces (CR3)",
        "vm-detail.json / VM exits by reason (rate)",
        "vm-detail.json / VM exit handling latency p50 / p95 / p99",
        "exits.json / Exits by reason (perf kvm stat)",
        "exits.json / Samples % by reason",
        "exits.json / Time % by reason",
        "exits.json / Exits per second by reason",
        "exits.json / Mean handling latency by reason",
    ];

    [InfluxFact]
    public async Task PanelTargets_FilledByTheWorkerFromRealTraces_EveryOneParsesAndReturnsASeries()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
        var empty = new List<string>();
        var emptyOnTcg = new HashSet<string>();
        foreach (var (file, json) in Dashboards.All())
        {
            var variables = Dashboards.Variables(json).ToList();
            var combos = Combinations(variables.Select(v => ((string)v["name"]!, (string)v["query"]!)).ToList());
            Assert.True(combos.Count > 0, $"{file}: the variables' SHOW TAG VALUES return nothing");
            foreach (var p in Dashboards.Panels(json))
            {
                string title = $"{file} / {p["title"]}";
                foreach (var t in p["targets"]!.AsArray())
                {
                    string query = (string)t!["query"]!;
                    string minInterval = (string?)p["interval"] ?? "1s";
                    bool any = false, anyTcg = false;
                    foreach (var combo in combos)
                    {
                        var range = query.Contains("pipeline_health", StringComparison.Ordinal) ? influx.HealthRange()
                            : combo.TryGetValue("host", out var host) ? influx.HostRange(host) : (0L, long.MaxValue / 2);
                        string interval = range.Item2 == long.MaxValue / 2 ? minInterval : GrafanaInterval(minInterval, range);
                        string q = Substitute(query, combo, range, interval);
                        int series = Series(q, title);
                        any |= series > 0;
                        if (series > 0 && combo.TryGetValue("host", out var h) && h.StartsWith("tcg-", StringComparison.Ordinal))
                            anyTcg = true;
                    }
                    if (!any)
                        empty.Add(title);
                    if (!anyTcg && combos.Any(c => c.ContainsKey("host")))
                        emptyOnTcg.Add(title);
                }
            }
        }
        Assert.True(empty.Count == 0, "panels without any series: " + string.Join("; ", empty));
        Assert.Equal(KvmOnly.Order(StringComparer.Ordinal), emptyOnTcg.Order(StringComparer.Ordinal));
    }

    /// <summary>The forecast panel over the history host's two weeks: the 14 daily peaks fitted, then 30 days projected past the last one.</summary>
    [InfluxFact]
    public async Task CapacityForecast_HistoryHostsTwoWeeks_FitsEachDayAndProjectsThirtyDaysAhead()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
        var target = Dashboards.Targets().Single(t => t.Dashboard == "capacity-planning.json" && t.Panel.Contains("Holt-Winters", StringComparison.Ordinal));
        var range = influx.HostRange(FilledInflux.HistoryHost);
        List<long> days;
        using (var d = JsonDocument.Parse(influx.Query($"SELECT max(\"mean_pcpu_share\") FROM \"rollup_1h\".\"vmtrace_vm\" WHERE \"host\" = '{FilledInflux.HistoryHost}' GROUP BY time(1d) fill(none)")))
            days = d.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values").EnumerateArray().Select(v => v[0].GetInt64()).ToList();
        Assert.Equal(FilledInflux.HistoryDays, days.Count);
        string q = Substitute(target.Query, new() { ["host"] = FilledInflux.HistoryHost }, range, GrafanaInterval(target.Interval!, range));
        string body = influx.Query(q);
        using var doc = JsonDocument.Parse(body);
        Assert.True(doc.RootElement.GetProperty("results")[0].TryGetProperty("series", out var all), $"{q} → {body}");
        var series = Assert.Single(all.EnumerateArray());
        var points = series.GetProperty("values").EnumerateArray().Select(v => (Time: v[0].GetInt64(), Value: v[1].GetDouble())).ToList();
        const long day = 86_400_000_000_000;
        // The fit: one value per day with data, from the second on (InfluxDB seeds the level with the first).
        var fitted = points.Where(p => p.Time <= range.To).Select(p => p.Time).ToList();
        Assert.Equal(days.Skip(1), fitted);
        var ahead = points.Where(p => p.Time > range.To).ToList();
        Assert.Equal(30, ahead.Count);
        Assert.All(ahead.Zip(ahead.Skip(1)), pair => Assert.Equal(day, pair.Second.Time - pair.First.Time));
        Assert.All(ahead, p => Assert.True(double.IsFinite(p.Value), $"forecast {p.Value} at {p.Time}"));
    }

    [InfluxFact]
    public async Task DocumentedQueries_FilledByTheWorkerFromRealTraces_EveryOneParsesAndReturnsASeries()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
        string doc = await File.ReadAllTextAsync(Path.Combine(Corpus.RepoRoot, "docs", "queries.md"));
        var queries = SqlBlock().Matches(doc).Select(m => m.Groups[1].Value.Trim()).ToList();
        Assert.True(queries.Count >= 10, $"docs/queries.md has {queries.Count} sql blocks");
        var tcg = FilledInflux.Hosts.Keys.Where(h => h.StartsWith("tcg-", StringComparison.Ordinal)).Select(influx.HostRange).ToList();
        var tcgRange = (From: tcg.Min(r => r.From), To: tcg.Max(r => r.To));
        foreach (var q in queries)
        {
            // now() - X becomes the start of the data the query looks at: the host it names, else the TCG hosts' range.
            var named = HostLiteral().Match(q);
            var (f, t) = q.Contains("pipeline_health", StringComparison.Ordinal) ? influx.HealthRange()
                : named.Success ? influx.HostRange(named.Groups[1].Value) : tcgRange;
            string run = NowMinus().Replace(q, f.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(Series(run, q) > 0, $"documented query returned no series: {run}");
        }
    }

    private int Series(string q, string what)
    {
        string body = influx.Query(q);
        using var doc = JsonDocument.Parse(body);
        int n = 0;
        foreach (var r in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            Assert.False(r.TryGetProperty("error", out var err), $"{what}: {q} → {err}");
            if (r.TryGetProperty("series", out var s))
                n += s.GetArrayLength();
        }
        return n;
    }

    /// <summary>Every combination of variable values, each variable's query run with the earlier ones substituted.</summary>
    private List<Dictionary<string, string>> Combinations(List<(string Name, string Query)> variables)
    {
        var result = new List<Dictionary<string, string>> { new() };
        foreach (var (name, query) in variables)
        {
            var next = new List<Dictionary<string, string>>();
            foreach (var combo in result)
                foreach (var value in TagValues(Substitute(query, combo, (0, 0), "1s")))
                    next.Add(new Dictionary<string, string>(combo) { [name] = value });
            result = next;
        }
        return result;
    }

    private List<string> TagValues(string query)
    {
        using var doc = JsonDocument.Parse(influx.Query(query));
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.False(r.TryGetProperty("error", out var err), $"{query} → {err}");
        return r.TryGetProperty("series", out var s)
            ? s.EnumerateArray().SelectMany(x => x.GetProperty("values").EnumerateArray()).Select(v => v[1].GetString()!).Distinct().ToList()
            : [];
    }

    /// <summary>What Grafana does to a query: variables (regex-escaped inside /…/), $timeFilter, $__interval, $__interval_ms.</summary>
    private static string Substitute(string query, Dictionary<string, string> values, (long From, long To) range, string interval)
    {
        string q = query.Replace("$timeFilter", $"time >= {range.From} AND time <= {range.To}", StringComparison.Ordinal)
            .Replace("$__interval_ms", IntervalMs(interval).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("$__interval", interval, StringComparison.Ordinal);
        foreach (var (name, value) in values.OrderByDescending(v => v.Key.Length))
            q = q.Replace("/^$" + name + "$/", "/^" + Regex.Escape(value).Replace("/", "\\/", StringComparison.Ordinal) + "$/", StringComparison.Ordinal)
                 .Replace("$" + name, value, StringComparison.Ordinal);
        return q;
    }

    /// <summary>
    /// Grafana's $__interval: the range over the panel's data points (its width in pixels; 1000 here) rounded to
    /// Grafana's "nice" steps (rangeutil roundInterval), never below the panel's minimum interval. A 1 s panel over
    /// the history host's two weeks groups by 15m, as it would in Grafana, not by 1.2 million seconds.
    /// </summary>
    private static string GrafanaInterval(string minInterval, (long From, long To) range)
    {
        long raw = (range.To - range.From) / 1_000_000 / 1000;
        (long Below, long Ms)[] steps =
        [
            (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000), (7_500, 5_000),
            (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000), (90_000, 60_000), (210_000, 120_000),
            (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000), (2_700_000, 1_800_000),
            (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000), (27_000_000, 21_600_000),
            (43_200_000, 43_200_000), (604_800_000, 86_400_000), (1_814_400_000, 604_800_000), (long.MaxValue, 2_592_000_000),
        ];
        long ms = steps.First(s => raw < s.Below).Ms;
        if (ms <= IntervalMs(minInterval))
            return minInterval;
        return ms % 86_400_000 == 0 ? $"{ms / 86_400_000}d" : ms % 3_600_000 == 0 ? $"{ms / 3_600_000}h"
            : ms % 60_000 == 0 ? $"{ms / 60_000}m" : ms % 1000 == 0 ? $"{ms / 1000}s" : $"{ms}ms";
    }

    private static long IntervalMs(string interval)
    {
        var m = Regex.Match(interval, @"^(\d+)(ms|s|m|h|d)$");
        long n = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "ms" => n, "s" => n * 1000, "m" => n * 60_000, "h" => n * 3_600_000, _ => n * 86_400_000 };
    }

    [GeneratedRegex("\"host\" = '([^']+)'")]
    private static partial Regex HostLiteral();

    [GeneratedRegex(@"now\(\) - \d+[hdm]")]
    private static partial Regex NowMinus();

    [GeneratedRegex("```sql\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex SqlBlock();
}
