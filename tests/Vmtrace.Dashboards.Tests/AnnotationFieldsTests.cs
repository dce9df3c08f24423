namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// The dashboards' annotation queries, like their panels', name only measurements, fields and tags the metric table says
/// are written, and their field mappings name columns the query selects (Grafana leaves an annotation without its text,
/// tags or end when a mapping names no column).
/// </summary>
public sealed partial class DashboardFieldsTests
{
    [Fact]
    public void DashboardAnnotations_EveryNamedFieldAndMappedColumn_IsInTheMetricTableAndSelected()
    {
        var annotations = Dashboards.Annotations().ToList();
        Assert.NotEmpty(annotations);
        foreach (var a in annotations)
        {
            Assert.Equal("vmtrace_episode", Check(a.ToString(), a.Query));
            Assert.Contains("$timeFilter", a.Query, StringComparison.Ordinal);
            string select = a.Query[..a.Query.IndexOf(" FROM ", StringComparison.Ordinal)];
            var selected = Quoted().Matches(select).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            foreach (var column in a.TagColumns.Append(a.TextColumn).Append(a.TimeEndColumn).Append(a.TitleColumn))
                Assert.True(selected.Contains(column), $"{a}: the mapping names {column}, which the query does not select: {a.Query}");
        }
    }
}
