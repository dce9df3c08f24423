using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// The dashboards lead somewhere: drill-down links (fleet → host → VM → its exits) reach existing dashboards with the
/// time range and the variables those declare; ranked panels are sorted, largest first; colours are green unless a
/// level means something; exit reasons are shown by name; the exits dashboard has perf kvm stat's columns.
/// </summary>
public sealed partial class DashboardNavigationTests
{
    private static IEnumerable<(string Where, JsonObject Panel, JsonObject Link)> PanelLinks() =>
        from d in Dashboards.All()
        from p in Dashboards.Panels(d.Json)
        where p["fieldConfig"]?["defaults"]?["links"] is JsonArray
        from l in p["fieldConfig"]!["defaults"]!["links"]!.AsArray()
        select ($"{d.File} / {p["title"]}", p, l!.AsObject());

    [Fact]
    public void Links_Every_TargetsAnExistingDashboardWithTheTimeRangeAndTheVariablesItDeclares()
    {
        var boards = Dashboards.All().ToDictionary(d => (string)d.Json["uid"]!, d => Dashboards.Variables(d.Json).Select(v => (string)v["name"]!).ToHashSet());
        var links = PanelLinks().Select(l => (l.Where, Url: (string)l.Link["url"]!, Panel: (JsonObject?)l.Panel))
            .Concat(Dashboards.All().SelectMany(d => d.Json["links"]!.AsArray().Select(l => (Where: d.File, Url: (string)l!["url"]!, Panel: (JsonObject?)null))))
            .ToList();
        Assert.True(links.Count >= 20, $"{links.Count} links");
        foreach (var (where, url, panel) in links)
        {
            var m = DashboardUrl().Match(url);
            Assert.True(m.Success, $"{where}: {url} is not a /d/<uid> link");
            string uid = m.Groups[1].Value;
            Assert.True(boards.ContainsKey(uid), $"{where}: {url} targets no dashboard (uid {uid})");
            Assert.Contains("${__url_time_range}", url, StringComparison.Ordinal);
            var passed = VarParam().Matches(url).Select(v => v.Groups[1].Value).ToHashSet();
            Assert.Subset(boards[uid], passed);
            // A panel's link passes every variable the target declares, each from a column its query groups by or
            // from this dashboard's own variable of that name.
            if (panel is null)
                continue;
            Assert.Equal(boards[uid].Order(StringComparer.Ordinal), passed.Order(StringComparer.Ordinal));
            string queries = string.Join('\n', panel["targets"]!.AsArray().Select(t => (string)t!["query"]!));
            foreach (Match v in VarParam().Matches(url))
            {
                string value = v.Groups[2].Value;
                var column = DataField().Match(value);
                if (column.Success)
                    Assert.True(Regex.IsMatch(queries, $"GROUP BY [^)]*\"{column.Groups[1].Value}\""), $"{where}: {value} is not a column its query groups by");
                else
                    Assert.Equal("${" + v.Groups[1].Value + "}", value);
            }
        }
        // The drill-down path exists: fleet → host (fleet, interference), fleet → VM detail → exits.
        var edges = PanelLinks().Select(l => (From: l.Where.Split(" / ")[0], To: DashboardUrl().Match((string)l.Link["url"]!).Groups[1].Value)).ToHashSet();
        Assert.Contains(("fleet-overview.json", "vmtrace-fleet"), edges);
        Assert.Contains(("fleet-overview.json", "vmtrace-interference"), edges);
        Assert.Contains(("fleet-overview.json", "vmtrace-vm"), edges);
        Assert.Contains(("fleet-overview.json", "vmtrace-exits"), edges);
        Assert.Contains(("vm-detail.json", "vmtrace-exits"), edges);
    }

    [Fact]
    public void RankedPanels_Every_IsOneTableSortedByItsValueLargestFirst()
    {
        var ranked = Dashboards.All().SelectMany(d => Dashboards.Panels(d.Json).Select(p => (d.File, Panel: p)))
            .Where(x => (string)x.Panel["type"]! == "bargauge" || (string)x.Panel["title"]! == "Top noisy neighbours per host").ToList();
        Assert.True(ranked.Count >= 8, $"{ranked.Count} ranked panels");
        foreach (var (file, p) in ranked)
        {
            string where = $"{file} / {p["title"]}";
            var target = Assert.Single(p["targets"]!.AsArray())!;
            Assert.Equal("table", (string?)target["resultFormat"]);
            string alias = Alias().Matches((string)target["query"]!).Select(a => a.Groups[1].Value).First();
            var sort = p["transformations"]?.AsArray().SingleOrDefault(t => (string?)t!["id"] == "sortBy");
            Assert.True(sort is not null, $"{where}: not sorted");
            var by = Assert.Single(sort!["options"]!["sort"]!.AsArray())!;
            Assert.Equal(alias, (string?)by["field"]);
            Assert.True(by["desc"]!.GetValue<bool>(), $"{where}: sorted smallest first");
            if ((string)p["type"]! == "bargauge")
                Assert.True(p["options"]!["reduceOptions"]!["values"]!.GetValue<bool>(), $"{where}: one bar per row needs reduceOptions.values");
        }
    }

    [Fact]
    public void Thresholds_Every_StartGreenOrNeutralAndEveryColouredPanelSetsItsOwn()
    {
        string[] neutral = ["green", "#73bf69", "transparent", "#d0d0d0"];
        foreach (var (file, json) in Dashboards.All())
        {
            foreach (var p in Dashboards.Panels(json))
            {
                string where = $"{file} / {p["title"]}";
                var steps = p["fieldConfig"]?["defaults"]?["thresholds"]?["steps"]?.AsArray();
                // Bar gauges, stats and tables colour by thresholds; without their own, Grafana's default is red from 80.
                if ((string)p["type"]! is "bargauge" or "stat" or "table" or "state-timeline")
                    Assert.True(steps is not null, $"{where}: no thresholds of its own (Grafana's default paints values above 80 red)");
                if (steps is null)
                    continue;
                Assert.Contains((string)steps[0]!["color"]!, neutral);
                Assert.Null(steps[0]!["value"]);
                var values = steps.Skip(1).Select(s => s!["value"]!.GetValue<double>()).ToList();
                Assert.Equal(values.Order(), values);
            }
        }
        // The one red level is relative to demand: the preempted share of the vCPUs' runnable time.
        var demand = Dashboards.Panels(Dashboards.All().Single(d => d.File == "fleet-overview.json").Json)
            .Single(p => (string)p["title"]! == "VMs by preempted share of vCPU demand");
        Assert.Equal("percentunit", (string?)demand["fieldConfig"]!["defaults"]!["unit"]);
        Assert.Contains("(sum(\"guest_ns\") + sum(\"host_ns\") + sum(\"preempted_ns\") + sum(\"wait_ns\"))", (string)demand["targets"]![0]!["query"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void ExitPanels_Every_GroupsByReasonNameAndShowsIt()
    {
        var exitTargets = Dashboards.All().SelectMany(d => Dashboards.Panels(d.Json).SelectMany(p => p["targets"]!.AsArray()
            .Select(t => (Where: $"{d.File} / {p["title"]}", Query: (string)t!["query"]!, Alias: (string?)t["alias"], Format: (string?)t["resultFormat"]))))
            .Where(t => t.Query.Contains("\"vmtrace_exit\"", StringComparison.Ordinal)).ToList();
        Assert.True(exitTargets.Count >= 7, $"{exitTargets.Count} exit targets");
        foreach (var (where, query, alias, format) in exitTargets)
        {
            Assert.Contains("\"reason_name\"", query[query.LastIndexOf("GROUP BY", StringComparison.Ordinal)..], StringComparison.Ordinal);
            if (format != "table")
                Assert.True(alias?.StartsWith("$tag_reason_name", StringComparison.Ordinal) == true, $"{where}: legend {alias} does not lead with the reason's name");
        }
    }

    [Fact]
    public void ExitsDashboard_HasPerfKvmStatColumnsFromTheExitMeasurement()
    {
        var exits = Dashboards.All().Single(d => d.File == "exits.json").Json;
        Assert.Equal("vmtrace-exits", (string?)exits["uid"]);
        Assert.Equal(["host", "vm"], Dashboards.Variables(exits).Select(v => (string)v["name"]!));
        var panels = Dashboards.Panels(exits).ToList();
        var table = panels.Single(p => (string)p["type"]! == "table");
        string q = (string)table["targets"]![0]!["query"]!;
        foreach (var column in new[] { "sum(\"count\") AS \"samples\"", "sum(\"latency_sum_ns\") AS \"time\"", "min(\"latency_min_ns\") AS \"min\"",
                     "max(\"latency_max_ns\") AS \"max\"", "sum(\"latency_sum_ns\") / sum(\"count\") AS \"avg\"" })
            Assert.Contains(column, q, StringComparison.Ordinal);
        // Samples % and time %: pies of each reason's count and handling time, showing percents of the whole.
        foreach (var (title, field) in new[] { ("Samples % by reason", "sum(\"count\")"), ("Time % by reason", "sum(\"latency_sum_ns\")") })
        {
            var pie = panels.Single(p => (string)p["title"]! == title);
            Assert.Equal("piechart", (string?)pie["type"]);
            Assert.StartsWith("SELECT " + field + " FROM \"vmtrace_exit\"", (string)pie["targets"]![0]!["query"]!, StringComparison.Ordinal);
            Assert.Contains("percent", pie["options"]!["legend"]!["values"]!.AsArray().Select(v => (string)v!));
        }
    }

    [GeneratedRegex(@"^/d/([\w-]+)(\?|$)")]
    private static partial Regex DashboardUrl();

    [GeneratedRegex(@"var-(\w+)=([^&]+)")]
    private static partial Regex VarParam();

    [GeneratedRegex(@"^\$\{__data\.fields\.(\w+)\}$")]
    private static partial Regex DataField();

    [GeneratedRegex("AS \"([^\"]+)\"")]
    private static partial Regex Alias();
}
