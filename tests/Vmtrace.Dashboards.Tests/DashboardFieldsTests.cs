using System.Text.RegularExpressions;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// Every measurement, field and tag the dashboards' InfluxQL (panel targets and template variables) and docs/queries.md
/// name is one the metric table (<see cref="MetricSchema.LineProtocol"/>) says is written: a field renamed or dropped
/// in the table fails here, before any influxd runs. In the rollup policies a field <c>x</c> is read as <c>sum_x</c>,
/// <c>mean_x</c> or <c>max_x</c> (the continuous queries' names), of numeric fields only.
/// </summary>
public sealed partial class DashboardFieldsTests
{
    private static readonly string[] RollupPolicies = ["rollup_1m", "rollup_1h"];
    private static readonly string[] RollupPrefixes = ["sum_", "mean_", "max_"];

    [Fact]
    public void DashboardQueries_EveryNamedMeasurementFieldAndTag_IsInTheMetricTable()
    {
        var queries = Dashboards.Targets().Select(t => (What: t.ToString(), t.Query))
            .Concat(Dashboards.All().SelectMany(d => Dashboards.Variables(d.Json).Select(v => (What: $"{d.File} / ${v["name"]}", Query: (string)v["query"]!))))
            .ToList();
        Assert.True(queries.Count >= 40, $"{queries.Count} dashboard queries");
        var named = queries.Select(q => Check(q.What, q.Query)).ToList();
        // The table's window measurements and pipeline health are all on some dashboard.
        Assert.Equal(MetricSchema.LineProtocol.All.Select(g => g.Name).Distinct().Order(StringComparer.Ordinal),
            named.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DocumentedQueries_EveryNamedMeasurementFieldAndTag_IsInTheMetricTable()
    {
        string doc = File.ReadAllText(Path.Combine(Corpus.RepoRoot, "docs", "queries.md"));
        var queries = SqlBlock().Matches(doc).Select(m => m.Groups[1].Value.Trim()).ToList();
        Assert.True(queries.Count >= 10, $"docs/queries.md has {queries.Count} sql blocks");
        foreach (var q in queries)
            Check("docs/queries.md", q);
    }

    /// <summary>The identifiers of a query against the table; returns the one measurement it reads.</summary>
    private static string Check(string what, string query)
    {
        var from = From().Matches(query).Select(m => (Policy: m.Groups[1].Success ? m.Groups[1].Value : null, Measurement: m.Groups[2].Value)).Distinct().ToList();
        var source = Assert.Single(from);
        var groups = MetricSchema.LineProtocol.All.Where(g => g.Name == source.Measurement).ToList();
        Assert.True(groups.Count > 0, $"{what}: measurement {source.Measurement} is not in the metric table");
        bool rollup = source.Policy is not null;
        if (rollup)
            Assert.Contains(source.Policy, RollupPolicies);
        var tags = groups.SelectMany(g => g.Tags).Select(t => t.Name).ToHashSet();
        var fields = groups.SelectMany(g => g.Fields).ToList();
        var aliases = Alias().Matches(query).Select(m => m.Groups[1].Value).ToHashSet();
        string rest = From().Replace(Alias().Replace(query, ""), "");
        foreach (var id in Quoted().Matches(rest).Select(m => m.Groups[1].Value))
        {
            if (tags.Contains(id) || aliases.Contains(id))
                continue;
            if (rollup)
            {
                var prefix = RollupPrefixes.FirstOrDefault(p => id.StartsWith(p, StringComparison.Ordinal));
                Assert.True(prefix is not null, $"{what}: {id} in {source.Policy} is not sum_/mean_/max_ of a field");
                string field = id[prefix.Length..];
                Assert.True(fields.Any(f => f.Name == field && f.Type != MetricType.Text),
                    $"{what}: {id} — {source.Measurement} has no numeric field {field} in the metric table");
            }
            else
            {
                Assert.True(fields.Any(f => f.Name == id), $"{what}: {source.Measurement} has no field or tag {id} in the metric table");
            }
        }
        return source.Measurement;
    }

    [GeneratedRegex("FROM\\s+(?:\"(\\w+)\"\\.)?\"(\\w+)\"")]
    private static partial Regex From();

    [GeneratedRegex("AS\\s+\"([^\"]+)\"")]
    private static partial Regex Alias();

    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex Quoted();

    [GeneratedRegex("```sql\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex SqlBlock();
}
