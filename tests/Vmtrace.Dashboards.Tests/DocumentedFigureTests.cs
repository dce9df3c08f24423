using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// Every query of docs/queries.md that is not a rate (the rates: DocumentedRateTests), run as the doc writes it against
/// the worker-filled influxd, gives what <c>vmtrace analyze --format json</c> computes from the same trace. The queries
/// are read from docs/queries.md itself; only their <c>time &gt; now() - X</c> becomes the data's range. Each expected
/// figure is derived from analyze's windows (<c>windows[]</c>: start_ns, end_ns, and per VM its figures): a raw point
/// of the worker is one window of one VM (at the window's start), so InfluxQL's sum / mean / max / min over points are
/// the same operations over analyze's windows, grouped the same way (time buckets by window start; rollup_1m / rollup_1h
/// points are the sums, means and maxima of the windows starting in their minute / hour). The history host's recording
/// is in the database on each of its <see cref="FilledInflux.HistoryDays"/> days, so its windows are taken on each.
/// </summary>
public sealed partial class PanelQueryTests
{
    private const long Minute = 60_000_000_000, Hour = 60 * Minute, Day = 24 * Hour;

    /// <summary>
    /// Every sql block of docs/queries.md is one of these, each marker in exactly one block: a query compared here, a
    /// rate compared by DocumentedRateTests, or one that no figure of analyze can check (with why).
    /// </summary>
    private static readonly string[] ComparedHere =
    [
        "SHOW TAG VALUES", "AS \"preempted_s\"", "AS \"hypervisor\"", "FROM \"vmtrace_vcpu\"", "AS \"worst_p99_ns\"", "top(\"latency_max_ns\", 10)",
        "AS \"p95_ns\"", "AS \"mean_latency_ns\"", "FROM \"vmtrace_net\"", "GROUP BY \"vm\", \"culprit\"", "top(\"total\", \"culprit\", 5)",
        "SELECT mean(\"mean_pcpu_share\") FROM", "SELECT max(\"share\")", "AS \"p95_preempted_vcpus\"", "AS \"headroom\"",
        "FROM \"rollup_1m\".\"vmtrace_disk\"", "AS \"in_episodes_ns\"", "\"culprit_kind\", \"culprit_share\", \"advice\"",
    ];

    private static readonly string[] RatesComparedElsewhere = ["\"exits_per_s\"", "GROUP BY time(10s), \"vm\", \"reason\"", "AS \"iops\""];

    private static readonly (string Marker, string Why)[] NotFiguresOfAnalyze =
    [
        ("FROM \"pipeline_health\"", "the worker's own counters (records, points, lag, dead letters), not figures of the trace"),
        ("holt_winters(", "InfluxDB's forecast; its input, the daily peak, is the 'peak hour of each day' query compared here, the fit is CapacityForecast_*"),
    ];

    private static readonly ConcurrentDictionary<string, Lazy<List<Window>>> s_analyzed = new();
    private static readonly ConcurrentDictionary<string, Lazy<string>> s_analyzedJson = new();

    [Fact]
    public void DocumentedQueries_EveryOne_IsComparedWithAnalyzeOrSaysWhyNot()
    {
        var markers = ComparedHere.Concat(RatesComparedElsewhere).Concat(NotFiguresOfAnalyze.Select(n => n.Marker)).ToList();
        var blocks = DocQueries();
        foreach (var q in blocks)
            Assert.True(markers.Count(m => q.Contains(m, StringComparison.Ordinal)) == 1, $"not exactly one marker in: {q}");
        foreach (var m in markers)
            Assert.True(blocks.Count(q => q.Contains(m, StringComparison.Ordinal)) == 1, $"marker {m} is not in exactly one sql block");
    }

    /// <summary>All VMs of all hosts: the union of the VM names of analyze's windows of every host.</summary>
    [InfluxFact]
    public async Task DocumentedVmList_AllHosts_IsEveryVmAnalyzeNames()
    {
        await FillAsync();
        var rows = Table(DocQuery("SHOW TAG VALUES"), 0, long.MaxValue / 2);
        var expected = FilledInflux.Hosts.Keys.SelectMany(h => Analyzed(h).SelectMany(w => w.Vms.Select(v => v.Str("vm")))).ToHashSet();
        Assert.Equal(expected.Order(StringComparer.Ordinal), rows.Select(r => r.Text("value")).Order(StringComparer.Ordinal));
    }

    /// <summary>Per VM: Σ vcpu_times.preempted_ns / 10⁹, and the mean of pcpu_share over its windows.</summary>
    [InfluxFact]
    public async Task DocumentedPreemptedAndShare_EveryHost_EqualAnalyzeSumAndMean()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = influx.HostRange(host);
            var rows = Table(DocQuery("AS \"preempted_s\""), from, to).Where(r => r.Tags["host"] == host).ToList();
            var perVm = VmEntries(host).GroupBy(e => e.Vm.Str("vm")).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(perVm.Keys.Order(StringComparer.Ordinal), rows.Select(r => r.Tags["vm"]).Order(StringComparer.Ordinal));
            foreach (var r in rows)
            {
                var mine = perVm[r.Tags["vm"]];
                Near(mine.Sum(e => e.Vm.Num("vcpu_times", "preempted_ns")) / 1e9, r.Num("preempted_s"), $"{host} {r.Tags["vm"]} preempted_s");
                Near(mine.Average(e => e.Vm.Num("pcpu_share")), r.Num("pcpu_share"), $"{host} {r.Tags["vm"]} pcpu_share");
            }
        }
    }

    /// <summary>Per VM and minute (windows starting in it): Σ of each vcpu_times state / Σ window length (end_ns − start_ns).</summary>
    [InfluxFact]
    public async Task DocumentedCpuSplit_Hip24_EqualsAnalyzeStatesOverWindowLengthPerMinute()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("hip24");
        var rows = Table(DocQuery("AS \"hypervisor\""), from, to);
        var expected = VmEntries("hip24").GroupBy(e => (Vm: e.Vm.Str("vm"), Bucket: Bucket(e.Window.Start, Minute))).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var mine = expected[(r.Tags["vm"], r.Time)];
            double length = mine.Sum(e => e.Window.Length);
            foreach (var (column, state) in new[] { ("guest", "guest_ns"), ("hypervisor", "host_ns"), ("preempted", "preempted_ns"), ("waiting", "wait_ns"), ("idle", "blocked_ns") })
                Near(mine.Sum(e => e.Vm.Num("vcpu_times", state)) / length, r.Num(column), $"{r.Tags["vm"]} {r.Time} {column}");
        }
        Assert.Contains(rows, r => r.Num("guest") > 0);
    }

    /// <summary>Per VM and vCPU id: Σ vcpus[].times.preempted_ns.</summary>
    [InfluxFact]
    public async Task DocumentedVcpuPreempted_TcgS2_EqualsAnalyzeSumPerVcpu()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("tcg-s2");
        var rows = Table(DocQuery("FROM \"vmtrace_vcpu\""), from, to);
        var expected = VmEntries("tcg-s2").SelectMany(e => e.Vm.GetProperty("vcpus").EnumerateArray()
                .Select(c => (Vm: e.Vm.Str("vm"), Vcpu: c.GetProperty("vcpu").GetInt64().ToString(CultureInfo.InvariantCulture), Ns: c.Num("times", "preempted_ns"))))
            .GroupBy(x => (x.Vm, x.Vcpu)).ToDictionary(g => g.Key, g => g.Sum(x => x.Ns));
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
            Near(expected[(r.Tags["vm"], r.Tags["vcpu"])], r.Num("sum"), $"{r.Tags["vm"]} vCPU {r.Tags["vcpu"]}");
        Assert.Contains(rows, r => r.Num("sum") > 0);
    }

    /// <summary>
    /// Per VM and reason over exits[] of every window: samples Σ count, time Σ latency_sum_ns, min of latency_min_ns, max of
    /// latency_max_ns, avg = time / samples, worst p99 = max of latency_p99_ns; reason_name is the entry's name.
    /// </summary>
    [InfluxFact]
    public async Task DocumentedKvmStatShape_Hip24_EqualsAnalyzeExitsByReason()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("hip24");
        var rows = Table(DocQuery("AS \"worst_p99_ns\""), from, to);
        var expected = ExitEntries("hip24").GroupBy(x => (x.Vm, x.Reason)).ToDictionary(g => g.Key, g => g.Select(x => x.Exit).ToList());
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var mine = expected[(r.Tags["vm"], r.Tags["reason"])];
            string what = $"{r.Tags["vm"]} reason {r.Tags["reason"]}";
            Assert.Equal(mine[0].TryGetProperty("name", out var name) ? name.GetString() : "", r.Tags["reason_name"]);
            double samples = mine.Sum(x => x.Num("count")), time = mine.Sum(x => x.Num("latency_sum_ns"));
            Near(samples, r.Num("samples"), what + " samples");
            Near(time, r.Num("time_ns"), what + " time_ns");
            Near(mine.Min(x => x.Num("latency_min_ns")), r.Num("min_ns"), what + " min_ns");
            Near(mine.Max(x => x.Num("latency_max_ns")), r.Num("max_ns"), what + " max_ns");
            Near(time / samples, r.Num("avg_ns"), what + " avg_ns");
            Near(mine.Max(x => x.Num("latency_p99_ns")), r.Num("worst_p99_ns"), what + " worst_p99_ns");
        }
        Assert.Contains(rows, r => r.Tags["reason_name"] == "HLT");
    }

    /// <summary>The ten largest latency_max_ns of reason 12 over every window and VM of analyze, each at its window's start.</summary>
    [InfluxFact]
    public async Task DocumentedSlowestHltWindows_Hip24_AreAnalyzeTenLargestMaxima()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("hip24");
        var rows = Table(DocQuery("top(\"latency_max_ns\", 10)"), from, to);
        var all = ExitEntries("hip24").Where(x => x.Reason == "12").Select(x => (x.Start, x.Vm, Max: x.Exit.Num("latency_max_ns"))).ToList();
        Assert.True(all.Count >= 10, $"{all.Count} HLT entries");
        Assert.Equal(all.Select(x => x.Max).OrderDescending().Take(10), rows.Select(r => r.Num("top")).OrderDescending());
        foreach (var r in rows)
            Assert.Contains((r.Time, r.Text("vm"), r.Num("top")), all);
    }

    /// <summary>
    /// Per VM and layer (qemu_disk → qemu, block_disk → block): Σ completed, read_bytes, write_bytes; max of latency.latency_p95_ns,
    /// latency.latency_p99_ns and max_in_flight. The worker writes a layer's point only when it had requests, so each VM and layer
    /// with requests has a row.
    /// </summary>
    [InfluxFact]
    public async Task DocumentedDiskTotals_EveryHost_EqualAnalyzeDiskLayers()
    {
        await FillAsync();
        int compared = 0;
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = influx.HostRange(host);
            var rows = Table(DocQuery("AS \"p95_ns\""), from, to).Where(r => r.Tags["host"] == host).ToList();
            var expected = DiskEntries(host).GroupBy(d => (d.Vm, d.Layer)).ToDictionary(g => g.Key, g => g.Select(d => d.Disk).ToList());
            Assert.Equal(expected.Keys.Select(k => $"{k.Vm}/{k.Layer}").Order(StringComparer.Ordinal),
                rows.Select(r => $"{r.Tags["vm"]}/{r.Tags["layer"]}").Order(StringComparer.Ordinal));
            foreach (var r in rows)
            {
                var mine = expected[(r.Tags["vm"], r.Tags["layer"])];
                string what = $"{host} {r.Tags["vm"]} {r.Tags["layer"]}";
                Near(mine.Sum(d => d.Num("completed")), r.Num("completed"), what + " completed");
                Near(mine.Sum(d => d.Num("read_bytes")), r.Num("read_bytes"), what + " read_bytes");
                Near(mine.Sum(d => d.Num("write_bytes")), r.Num("write_bytes"), what + " write_bytes");
                Near(mine.Max(d => d.Num("latency", "latency_p95_ns")), r.Num("p95_ns"), what + " p95_ns");
                Near(mine.Max(d => d.Num("latency", "latency_p99_ns")), r.Num("p99_ns"), what + " p99_ns");
                Near(mine.Max(d => d.Num("max_in_flight")), r.Num("max_in_flight"), what + " max_in_flight");
                compared++;
            }
        }
        Assert.True(compared >= 4, $"{compared} VM disk layers compared");
    }

    /// <summary>
    /// The IOPS query's other column: per 10 s bucket lying wholly inside the trace's windows, Σ (read_bytes + write_bytes) of the
    /// windows starting in it / 10 (DocumentedRateTests compares its iops column).
    /// </summary>
    [InfluxFact]
    public async Task DocumentedDiskBytesPerSecond_TcgS3_EqualsAnalyzeBytesOverTheBucketsSeconds()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("tcg-s3");
        var windows = Analyzed("tcg-s3");
        long first = windows.Min(w => w.Start), end = windows.Max(w => w.Start + w.Length);
        var rows = Table(DocQuery("AS \"iops\""), from, to).Where(r => r.Time >= first && r.Time + 10_000_000_000 <= end).ToList();
        foreach (var r in rows)
        {
            double bytes = DiskEntries("tcg-s3").Where(d => d.Vm == r.Tags["vm"] && d.Layer == r.Tags["layer"] && Bucket(d.Start, 10_000_000_000) == r.Time)
                .Sum(d => d.Disk.Num("read_bytes") + d.Disk.Num("write_bytes"));
            Near(bytes / 10, r.Num("bytes_per_s"), $"{r.Tags["vm"]} {r.Tags["layer"]} {r.Time}");
        }
        Assert.True(rows.Count(r => r.Num("bytes_per_s") > 0) >= 2, $"{rows.Count} full 10 s buckets");
    }

    /// <summary>Per VM, layer and minute: Σ latency.latency_sum_ns / Σ latency.count of the windows starting in the minute.</summary>
    [InfluxFact]
    public async Task DocumentedMeanDiskLatency_TcgS4_EqualsAnalyzeLatencySumOverCountPerMinute()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("tcg-s4");
        var rows = Table(DocQuery("AS \"mean_latency_ns\""), from, to);
        var expected = DiskEntries("tcg-s4").GroupBy(d => (d.Vm, d.Layer, Bucket(d.Start, Minute))).ToDictionary(g => g.Key, g => g.Select(d => d.Disk).ToList());
        Assert.Equal(expected.Keys.Select(k => $"{k.Vm}/{k.Layer}/{k.Item3}").Order(StringComparer.Ordinal),
            rows.Select(r => $"{r.Tags["vm"]}/{r.Tags["layer"]}/{r.Time}").Order(StringComparer.Ordinal));
        foreach (var r in rows)
        {
            var mine = expected[(r.Tags["vm"], r.Tags["layer"], r.Time)];
            Near(mine.Sum(d => d.Num("latency", "latency_sum_ns")) / mine.Sum(d => d.Num("latency", "count")), r.Num("mean_latency_ns"),
                $"{r.Tags["vm"]} {r.Tags["layer"]} {r.Time}");
        }
        Assert.Contains(rows, r => r.Num("mean_latency_ns") > 0);
    }

    /// <summary>Per VM: Σ network.rx_bytes, tx_bytes, rx_packets, tx_packets, vhost_busy_ns (a point only where there was some).</summary>
    [InfluxFact]
    public async Task DocumentedNetworkTotals_EveryHost_EqualAnalyzeNetwork()
    {
        await FillAsync();
        string[] fields = ["rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "vhost_busy_ns"];
        int compared = 0;
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = influx.HostRange(host);
            var rows = Table(DocQuery("FROM \"vmtrace_net\""), from, to).Where(r => r.Tags["host"] == host).ToList();
            var expected = VmEntries(host).GroupBy(e => e.Vm.Str("vm"))
                .ToDictionary(g => g.Key, g => fields.ToDictionary(f => f, f => g.Sum(e => e.Vm.Num("network", f))));
            Assert.Equal(expected.Where(e => e.Value.Values.Sum() > 0).Select(e => e.Key).Order(StringComparer.Ordinal),
                rows.Select(r => r.Tags["vm"]).Order(StringComparer.Ordinal));
            foreach (var r in rows)
                foreach (var f in fields)
                    Near(expected[r.Tags["vm"]][f], r.Num(f), $"{host} {r.Tags["vm"]} {f}");
            compared += rows.Count;
        }
        Assert.True(compared >= 1, "no VM with network traffic");
    }

    /// <summary>Per VM and culprit: Σ preempted_by[].preempted_ns.</summary>
    [InfluxFact]
    public async Task DocumentedWhoPreemptedWhom_TcgS2_EqualsAnalyzePreemptedBy()
    {
        await FillAsync();
        var (from, to) = influx.HostRange("tcg-s2");
        var rows = Table(DocQuery("GROUP BY \"vm\", \"culprit\""), from, to);
        var expected = Culprits("tcg-s2").GroupBy(c => (c.Vm, c.Culprit)).ToDictionary(g => g.Key, g => g.Sum(c => c.Ns));
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
            Near(expected[(r.Tags["vm"], r.Tags["culprit"])], r.Num("sum"), $"{r.Tags["vm"]} by {r.Tags["culprit"]}");
        Assert.Contains(rows, r => r.Tags["culprit"].StartsWith("vm", StringComparison.Ordinal) && r.Num("sum") > 0);
    }

    /// <summary>Per host: the five culprits with the largest Σ preempted_by[].preempted_ns over all its VMs and windows.</summary>
    [InfluxFact]
    public async Task DocumentedNoisiestNeighbours_EveryHost_AreAnalyzeTopFiveCulprits()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = influx.HostRange(host);
            var rows = Table(DocQuery("top(\"total\", \"culprit\", 5)"), from, to).Where(r => r.Tags["host"] == host).ToList();
            var totals = Culprits(host).GroupBy(c => c.Culprit).Select(g => (Culprit: g.Key, Total: g.Sum(c => c.Ns))).OrderByDescending(c => c.Total).ToList();
            var top = totals.Take(5).ToList();
            Assert.Equal(top.Select(t => t.Total), rows.Select(r => r.Num("top")).OrderDescending());
            foreach (var r in rows)
                Assert.Contains((r.Text("culprit"), r.Num("top")), totals);
        }
    }

    /// <summary>
    /// Per VM and day: the mean over the day's hours of the hour's mean pcpu_share (rollup_1h's mean_pcpu_share: the mean over the
    /// windows starting in the hour).
    /// </summary>
    [InfluxFact]
    public async Task DocumentedDailyShare_EveryHost_EqualsAnalyzeMeanOfHourlyMeans()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = RollupRange(host);
            var rows = Table(DocQuery("SELECT mean(\"mean_pcpu_share\") FROM"), from, to).Where(r => r.Tags["host"] == host).ToList();
            var expected = HourlyShares(host).GroupBy(h => (h.Vm, Bucket(h.Hour, Day))).ToDictionary(g => g.Key, g => g.Average(h => h.Share));
            Assert.Equal(expected.Count, rows.Count);
            foreach (var r in rows)
                Near(expected[(r.Tags["vm"], r.Time)], r.Num("mean"), $"{host} {r.Tags["vm"]} day {r.Time}");
        }
    }

    /// <summary>Per host and day: the largest, over the day's hours, Σ over VMs of the hour's mean pcpu_share.</summary>
    [InfluxFact]
    public async Task DocumentedDailyPeakDemand_EveryHost_EqualsAnalyzePeakHourlySum()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = RollupRange(host);
            var rows = Table(DocQuery("SELECT max(\"share\")"), from, to).Where(r => r.Tags["host"] == host).ToList();
            var expected = HostHourlyDemand(host).GroupBy(h => Bucket(h.Hour, Day)).ToDictionary(g => g.Key, g => g.Max(h => h.Share));
            Assert.Equal(expected.Keys.Order(), rows.Select(r => r.Time).Order());
            foreach (var r in rows)
                Near(expected[r.Time], r.Num("max"), $"{host} day {r.Time}");
        }
    }

    /// <summary>Per host: 1 − the largest hourly Σ over VMs of the hour's mean pcpu_share.</summary>
    [InfluxFact]
    public async Task DocumentedHeadroom_EveryHost_EqualsOneMinusAnalyzePeakHourlySum()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = RollupRange(host);
            var row = Assert.Single(Table(DocQuery("AS \"headroom\""), from, to), r => r.Tags["host"] == host);
            Near(1 - HostHourlyDemand(host).Max(h => h.Share), row.Num("headroom"), host);
        }
    }

    /// <summary>
    /// Per VM and day: the 95th percentile, as InfluxDB takes it (sorted ascending, the value at index ⌊n × 95 / 100 + 0.5⌋ − 1),
    /// of the day's minutes' Σ vcpu_times.preempted_ns / Σ window length (windows starting in the minute).
    /// </summary>
    [InfluxFact]
    public async Task DocumentedDailyP95Preempted_EveryHost_EqualsAnalyzePercentileOfMinuteRatios()
    {
        await FillAsync();
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = RollupRange(host);
            var rows = Table(DocQuery("AS \"p95_preempted_vcpus\""), from, to).Where(r => r.Tags["host"] == host).ToList();
            var minutes = VmEntries(host).GroupBy(e => (Vm: e.Vm.Str("vm"), Minute: Bucket(e.Window.Start, Minute)))
                .Select(g => (g.Key.Vm, g.Key.Minute, Vcpus: g.Sum(e => e.Vm.Num("vcpu_times", "preempted_ns")) / g.Sum(e => (double)e.Window.Length)));
            var expected = minutes.GroupBy(m => (m.Vm, Bucket(m.Minute, Day))).ToDictionary(g => g.Key, g =>
            {
                var sorted = g.Select(m => m.Vcpus).Order().ToList();
                return sorted[(int)Math.Floor(sorted.Count * 95 / 100.0 + 0.5) - 1];
            });
            Assert.Equal(expected.Count, rows.Count);
            foreach (var r in rows)
                Near(expected[(r.Tags["vm"], r.Time)], r.Num("p95_preempted_vcpus"), $"{host} {r.Tags["vm"]} day {r.Time}");
            if (host == FilledInflux.HistoryHost)
                Assert.Contains(rows, r => r.Num("p95_preempted_vcpus") > 0.1);
        }
    }

    /// <summary>
    /// The capacity dashboard's preemption p95 panel is the same query per host, grouped by Grafana's interval: over the history
    /// host's days with a 1d interval it gives the documented query's figures (both divide as floats; as integers every one is 0).
    /// </summary>
    [InfluxFact]
    public async Task CapacityDashboardP95Panel_HistoryHostByDay_GivesTheDocumentedQuerysFigures()
    {
        await FillAsync();
        string host = FilledInflux.HistoryHost;
        var (from, to) = RollupRange(host);
        var documented = Table(DocQuery("AS \"p95_preempted_vcpus\""), from, to).Where(r => r.Tags["host"] == host)
            .ToDictionary(r => (r.Tags["vm"], r.Time), r => r.Num("p95_preempted_vcpus"));
        var target = Assert.Single(Dashboards.Targets(), t => t.Dashboard == "capacity-planning.json" && t.Query.Contains("percentile(\"vcpus\", 95)", StringComparison.Ordinal));
        string q = Substitute(target.Query, new() { ["host"] = host }, (from, to - 1), "1d");
        using var doc = JsonDocument.Parse(influx.Query(q));
        var panel = doc.RootElement.GetProperty("results")[0].GetProperty("series").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray().Select(v => (Key: (s.GetProperty("tags").GetProperty("vm").GetString()!, v[0].GetInt64()), Value: v[1].GetDouble())))
            .ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(documented.Keys.Order(), panel.Keys.Order());
        foreach (var (key, value) in documented)
            Near(value, panel[key], $"{key}");
        Assert.Contains(panel.Values, v => v > 0.1);
    }

    /// <summary>Per VM, layer and day: Σ completed and Σ (read_bytes + write_bytes) of the windows starting in the day.</summary>
    [InfluxFact]
    public async Task DocumentedDailyDiskDemand_EveryHost_EqualsAnalyzeDiskSumsPerDay()
    {
        await FillAsync();
        int compared = 0;
        foreach (var host in FilledInflux.Hosts.Keys)
        {
            var (from, to) = RollupRange(host);
            var rows = Table(DocQuery("FROM \"rollup_1m\".\"vmtrace_disk\""), from, to).Where(r => r.Tags["host"] == host).ToList();
            var expected = DiskEntries(host).GroupBy(d => (d.Vm, d.Layer, Bucket(d.Start, Day))).ToDictionary(g => g.Key, g => g.Select(d => d.Disk).ToList());
            foreach (var r in rows)
            {
                var mine = expected[(r.Tags["vm"], r.Tags["layer"], r.Time)];
                Near(mine.Sum(d => d.Num("completed")), r.Num("requests"), $"{host} {r.Tags["vm"]} {r.Tags["layer"]} requests");
                Near(mine.Sum(d => d.Num("read_bytes") + d.Num("write_bytes")), r.Num("bytes"), $"{host} {r.Tags["vm"]} {r.Tags["layer"]} bytes");
                compared++;
            }
        }
        Assert.True(compared >= 4, $"{compared} VM disk layer days compared");
    }

    private async Task FillAsync()
    {
        Assert.NotNull(Corpus.Root);
        await influx.EnsureFilledAsync();
    }

    /// <summary>
    /// A host's range for the rollup queries: from the start of the day of its first point, as a rollup point is timed at the start
    /// of its minute or hour, before the first raw point (a range of the last 90 days holds them whole).
    /// </summary>
    private (long From, long To) RollupRange(string host)
    {
        var (from, to) = influx.HostRange(host);
        return (Bucket(from, Day), to);
    }

    private static List<string> DocQueries() =>
        [.. SqlBlock().Matches(File.ReadAllText(Path.Combine(Corpus.RepoRoot, "docs", "queries.md"))).Select(m => m.Groups[1].Value.Trim())];

    /// <summary>A query's time bucket of <paramref name="ns"/> (InfluxDB's GROUP BY time buckets start at multiples of the size).</summary>
    private static long Bucket(long ns, long size) => ns - (ns % size);

    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{what}: analyze {expected}, InfluxDB {actual}");

    /// <summary>
    /// Runs a documented query with every <c>time &gt; now() - X</c> made <c>time &gt;= from AND time &lt; to</c>: one row per series
    /// and value row, its tags and its columns by name.
    /// </summary>
    private List<Row> Table(string query, long from, long to)
    {
        string q = TimeSinceNow().Replace(query, $"time >= {from} AND time < {to}");
        string body = influx.Query(q);
        using var doc = JsonDocument.Parse(body);
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.False(r.TryGetProperty("error", out var err), $"{q} → {err}");
        var rows = new List<Row>();
        if (!r.TryGetProperty("series", out var series))
            return rows;
        foreach (var s in series.EnumerateArray())
        {
            var tags = s.TryGetProperty("tags", out var t) ? t.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString()!) : [];
            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
            foreach (var v in s.GetProperty("values").EnumerateArray())
            {
                var values = columns.Select((c, i) => (c, v[i].Clone())).ToDictionary(x => x.c, x => x.Item2);
                rows.Add(new Row(tags, values.TryGetValue("time", out var time) ? time.GetInt64() : 0, values));
            }
        }
        return rows;
    }

    private sealed record Row(Dictionary<string, string> Tags, long Time, Dictionary<string, JsonElement> Values)
    {
        public double Num(string column) => Values[column].GetDouble();

        public string Text(string column) => Values[column].GetString()!;
    }

    private sealed record Window(long Start, long Length, List<JsonElement> Vms);

    /// <summary>
    /// <c>vmtrace analyze --format json</c> of a host's inputs (those its agent replays): its windows (start, end − start, vms[]);
    /// for the history host once per day it is in the database (shifted by whole days, as its agent replayed it).
    /// </summary>
    private static List<Window> Analyzed(string host) => s_analyzed.GetOrAdd(host, h => new Lazy<List<Window>>(() =>
    {
        using var doc = JsonDocument.Parse(AnalyzedJson(h));
        var windows = doc.RootElement.GetProperty("windows").EnumerateArray().Select(w => new Window(w.GetProperty("start_ns").GetInt64(),
            w.GetProperty("end_ns").GetInt64() - w.GetProperty("start_ns").GetInt64(), [.. w.GetProperty("vms").EnumerateArray().Select(v => v.Clone())])).ToList();
        int days = h == FilledInflux.HistoryHost ? FilledInflux.HistoryDays : 1;
        return [.. Enumerable.Range(0, days).SelectMany(d => windows.Select(w => w with { Start = w.Start - (d * Day) }))];
    })).Value;

    /// <summary><c>vmtrace analyze --format json</c> of a host's inputs (those its agent replays), run once per host.</summary>
    private static string AnalyzedJson(string host) => s_analyzedJson.GetOrAdd(host, h => new Lazy<string>(() =>
        VmtraceProcess.Run([.. FilledInflux.Hosts[h].Select(Corpus.Path).Prepend("analyze"), "--no-progress", "--format", "json"]))).Value;

    private static IEnumerable<(Window Window, JsonElement Vm)> VmEntries(string host) =>
        Analyzed(host).SelectMany(w => w.Vms.Select(v => (w, v)));

    private static IEnumerable<(long Start, string Vm, string Reason, JsonElement Exit)> ExitEntries(string host) =>
        VmEntries(host).SelectMany(e => e.Vm.GetProperty("exits").EnumerateArray()
            .Select(x => (e.Window.Start, e.Vm.Str("vm"), x.GetProperty("reason").GetInt64().ToString(CultureInfo.InvariantCulture), x)));

    /// <summary>
    /// Each window's disk layers (qemu_disk → layer qemu, block_disk → block) that the worker writes a point for: those that had
    /// requests in the window (submitted or completed) or have some in flight at its end.
    /// </summary>
    private static IEnumerable<(long Start, string Vm, string Layer, JsonElement Disk)> DiskEntries(string host) =>
        VmEntries(host).SelectMany(e => new[] { ("qemu", "qemu_disk"), ("block", "block_disk") }
            .Select(l => (e.Window.Start, Vm: e.Vm.Str("vm"), l.Item1, Disk: e.Vm.GetProperty(l.Item2))))
            .Where(d => d.Disk.Num("submitted") + d.Disk.Num("completed") + d.Disk.Num("in_flight") > 0);

    private static IEnumerable<(string Vm, string Culprit, double Ns)> Culprits(string host) =>
        VmEntries(host).SelectMany(e => e.Vm.GetProperty("preempted_by").EnumerateArray()
            .Select(c => (e.Vm.Str("vm"), c.GetProperty("culprit").GetString()!, c.Num("preempted_ns"))));

    /// <summary>Per VM and hour: the mean pcpu_share of the windows starting in the hour (rollup_1h's mean_pcpu_share).</summary>
    private static IEnumerable<(string Vm, long Hour, double Share)> HourlyShares(string host) =>
        VmEntries(host).GroupBy(e => (Vm: e.Vm.Str("vm"), Hour: Bucket(e.Window.Start, Hour)))
            .Select(g => (g.Key.Vm, g.Key.Hour, g.Average(e => e.Vm.Num("pcpu_share"))));

    /// <summary>Per hour: Σ over the host's VMs of their hourly mean pcpu_share.</summary>
    private static IEnumerable<(long Hour, double Share)> HostHourlyDemand(string host) =>
        HourlyShares(host).GroupBy(h => h.Hour).Select(g => (g.Key, g.Sum(h => h.Share)));

    [GeneratedRegex(@"time > now\(\) - \d+[hdm]")]
    private static partial Regex TimeSinceNow();
}

/// <summary>Reading analyze's JSON figures.</summary>
internal static class AnalyzeJson
{
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    /// <summary>A number at a property path (e.g. "vcpu_times", "preempted_ns"), as a double.</summary>
    public static double Num(this JsonElement e, params string[] path)
    {
        foreach (var p in path)
            e = e.GetProperty(p);
        return e.GetDouble();
    }
}
