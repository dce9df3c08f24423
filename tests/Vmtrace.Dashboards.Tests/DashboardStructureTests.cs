using System.Text.RegularExpressions;

namespace Vmtrace.Dashboards.Tests;

/// <summary>The dashboards' JSON: uids, datasource by uid, schemaVersion, units, template variables and query conventions.</summary>
public sealed class DashboardStructureTests
{
    [Fact]
    public void Dashboards_All_HaveUniqueUidsAndTitlesAndASchemaVersion()
    {
        var all = Dashboards.All();
        Assert.Equal(["capacity-planning.json", "exits.json", "fleet-overview.json", "interference.json", "pipeline-health.json", "vm-detail.json"], all.Select(d => d.File));
        Assert.Equal(all.Count, all.Select(d => (string)d.Json["uid"]!).Distinct().Count());
        Assert.Equal(all.Count, all.Select(d => (string)d.Json["title"]!).Distinct().Count());
        foreach (var (file, json) in all)
        {
            Assert.True(((string?)json["uid"])?.Length is > 0 and <= 40, $"{file}: uid missing or longer than Grafana's 40 characters");
            Assert.True(json["schemaVersion"]?.GetValue<int>() >= 36, $"{file}: schemaVersion missing");
            var ids = Dashboards.Panels(json).Select(p => p["id"]!.GetValue<int>()).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }
    }

    [Fact]
    public void Panels_Every_ReferToTheDatasourceByUidAndSetAUnit()
    {
        foreach (var (file, json) in Dashboards.All())
        {
            foreach (var p in Dashboards.Panels(json))
            {
                string title = $"{file} / {p["title"]}";
                Assert.Equal(Dashboards.DatasourceUid, (string?)p["datasource"]?["uid"]);
                Assert.Equal("influxdb", (string?)p["datasource"]?["type"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)p["fieldConfig"]?["defaults"]?["unit"]), $"{title}: no unit");
                var targets = p["targets"]!.AsArray();
                Assert.NotEmpty(targets);
                foreach (var t in targets)
                {
                    Assert.Equal(Dashboards.DatasourceUid, (string?)t!["datasource"]?["uid"]);
                    Assert.True(t["rawQuery"]!.GetValue<bool>(), $"{title}: not a raw InfluxQL query");
                }
            }
            foreach (var v in Dashboards.Variables(json))
                Assert.Equal(Dashboards.DatasourceUid, (string?)v["datasource"]?["uid"]);
        }
    }

    [Fact]
    public void Variables_Every_ComeFromShowTagValues()
    {
        foreach (var (file, json) in Dashboards.All())
        {
            var vars = Dashboards.Variables(json).ToList();
            Assert.NotEmpty(vars);
            foreach (var v in vars)
            {
                Assert.Equal("query", (string?)v["type"]);
                Assert.StartsWith("SHOW TAG VALUES FROM ", (string)v["query"]!, StringComparison.Ordinal);
            }
            // every variable a query uses is defined
            var defined = vars.Select(v => (string)v["name"]!).ToHashSet();
            foreach (var p in Dashboards.Panels(json))
                foreach (var t in p["targets"]!.AsArray())
                    foreach (Match m in Regex.Matches((string)t!["query"]!, @"\$(\w+)"))
                        Assert.True(defined.Contains(m.Groups[1].Value) || m.Groups[1].Value.StartsWith("__", StringComparison.Ordinal)
                                    || m.Groups[1].Value is "timeFilter" or "tag_host" or "tag_vm" or "col",
                            $"{file} / {p["title"]}: ${m.Groups[1].Value} is not a variable of the dashboard");
        }
    }

    [Fact]
    public void Queries_Every_UseTimeFilterIntervalAndNoHardCodedHost()
    {
        string[] knownHosts = [.. FilledInflux.Hosts.Keys, "hip24-kvm-host-2vms-46s", "s2-cpu-contention", "tcg-3vms"];
        foreach (var t in Dashboards.Targets())
        {
            Assert.Contains("$timeFilter", t.Query, StringComparison.Ordinal);
            // The outermost GROUP BY time uses the panel's interval; only nested subqueries may fix theirs (1h of the rollup)
            int last = t.Query.LastIndexOf("GROUP BY time(", StringComparison.Ordinal);
            if (last >= 0)
                Assert.True(t.Query.AsSpan(last).StartsWith("GROUP BY time($__interval)"), $"{t}: the outer GROUP BY time is not $__interval");
            foreach (Match m in Regex.Matches(t.Query, "\"host\"\\s*(=~|=|!=|!~)\\s*(\\S+)"))
                Assert.True(m.Groups[1].Value == "=~" && m.Groups[2].Value == "/^$host$/", $"{t}: host compared with {m.Groups[2].Value}");
            foreach (var h in knownHosts)
                Assert.DoesNotContain(h, t.Query, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dashboards_VmDetail_HasTheIssuesRows()
    {
        var vm = Dashboards.All().Single(d => d.File == "vm-detail.json").Json;
        Assert.Equal(["host", "vm"], Dashboards.Variables(vm).Select(v => (string)v["name"]!));
        var types = Dashboards.Panels(vm).Select(p => (string)p["type"]!).ToList();
        Assert.Contains("state-timeline", types);
        var queries = string.Join('\n', Dashboards.Panels(vm).SelectMany(p => p["targets"]!.AsArray()).Select(t => (string)t!["query"]!));
        foreach (var m in new[] { "vmtrace_vm", "vmtrace_vcpu", "vmtrace_exit", "vmtrace_disk", "vmtrace_net", "vmtrace_interference", "latency_p99_ns", "vhost_busy_ns", "in_flight" })
            Assert.Contains(m, queries, StringComparison.Ordinal);
    }
}
