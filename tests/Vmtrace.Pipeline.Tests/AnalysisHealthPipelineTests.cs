using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// The analysis-quality counters reach pipeline_health per host: traces with known anomalies go through agent →
/// Kafka → worker → influxd, and the host's final <c>component=analysis</c> point holds what <c>vmtrace analyze</c>
/// reports for the same inputs (its JSON counters), the agent's point its decode errors.
/// </summary>
public sealed class AnalysisHealthPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-health-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A qemu log (built here) with anomalies counted by hand: one line without the TID@time prefix (1 decode error),
    /// one event earlier than the line before it (1 out-of-order event), which is also a thread_pool_complete of a
    /// request never submitted (1 unmatched completion). Its thread_pool events make pid 5000 a VM, so windows close.
    /// </summary>
    private string DamagedQemuLog()
    {
        string path = Path.Combine(_dir, "qemu-vmX.log");
        File.WriteAllText(path, """
            5000@1700000000.100000:thread_pool_submit pool 0x1 req 0x10 opaque 0x20
            5000@1700000000.200000:thread_pool_complete pool 0x1 req 0x10 opaque 0x20 ret 0
            this line is no qemu trace event
            5000@1700000000.150000:thread_pool_complete pool 0x1 req 0x99 opaque 0x20 ret 0
            5000@1700000001.500000:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8
            5000@1700000002.500000:thread_pool_submit pool 0x1 req 0x11 opaque 0x20

            """);
        return path;
    }

    private static readonly string[] Compared =
    [
        "inferred_switches", "lost_exits", "unfinished_exits", "out_of_order_events", "unmatched_completions",
        "kvm_events_without_thread", "unattributed_qemu_disk_events", "events_without_tid", "block_issues_without_thread",
        "net_events_without_thread", "time_jumps", "time_jump_ns",
    ];

    private static async Task<Dictionary<string, long>> AnalyzeCountersAsync(IReadOnlyList<string> inputs, string host)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["analyze", .. inputs, "--format", "json", "--host", host, "--no-progress"], stdout, stderr);
        Assert.True(rc == 0, $"vmtrace analyze exited {rc}: {stderr}");
        using var doc = JsonDocument.Parse(stdout.ToString());
        var result = doc.RootElement.GetProperty("counters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        result["events"] = doc.RootElement.GetProperty("events").GetInt64();
        return result;
    }

    /// <summary>The last (latest in time) pipeline_health point of that component and host, as field → value.</summary>
    private static Dictionary<string, long>? LastPoint(PipelineHarness h, string component, string host)
    {
        using var doc = JsonDocument.Parse(h.Query($"SELECT * FROM pipeline_health WHERE component = '{component}' AND host = '{host}' ORDER BY time DESC LIMIT 1"));
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series))
            return null;
        var columns = series[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        var row = series[0].GetProperty("values")[0].EnumerateArray().ToList();
        var point = new Dictionary<string, long>();
        for (int i = 0; i < columns.Count; i++)
        {
            if (row[i].ValueKind == JsonValueKind.Number)
                point[columns[i]] = row[i].GetInt64();
        }
        return point;
    }

    [InfluxFact]
    public async Task Replay_TracesWithAnomalies_AnalysisHealthEqualsAnalyzeCounters()
    {
        var hosts = new (string Host, string[] Inputs)[]
        {
            // hip24-allkvm: a real KVM host trace with missing context switches, a lost kvm_exit and exits still open at its end.
            ("hip24-allkvm", [Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat")]),
            ("damaged-qemu-log", [DamagedQemuLog()]),
        };
        var expected = new Dictionary<string, Dictionary<string, long>>();
        foreach (var (host, inputs) in hosts)
            expected[host] = await AnalyzeCountersAsync(inputs, host);
        var hip = expected["hip24-allkvm"];
        Assert.True(hip["inferred_switches"] > 0 && hip["lost_exits"] > 0 && hip["unfinished_exits"] > 0, "hip24-allkvm should have anomalies");
        var log = expected["damaged-qemu-log"];
        Assert.Equal((1L, 1L, 1L), (log["decode_errors"], log["out_of_order_events"], log["unmatched_completions"]));

        // hip24-allkvm counts raw TSC cycles, which the pipeline takes only when both sides are told to.
        var rawCycles = new Dictionary<string, string?> { ["Agent:SendRawCycles"] = "true", ["Worker:AcceptRawCycles"] = "true" };
        using var h = new PipelineHarness(influx);
        var settings = h.Settings();
        foreach (var (key, value) in rawCycles)
            settings[key] = value;
        using var worker = PipelineHarnessHosts.Worker(settings);
        await worker.StartAsync();
        foreach (var (host, inputs) in hosts)
            await h.ReplayAsync(inputs, host, rawCycles);
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        bool Done() => counters.SessionsEnded == hosts.Length && counters.PendingPoints == 0
            && hosts.All(x => LastPoint(h, "analysis", x.Host)?.GetValueOrDefault("analysed_events") == expected[x.Host]["events"]
                && LastPoint(h, "agent", x.Host) is not null);
        while (!Done() && DateTime.UtcNow < until)
            await Task.Delay(250);
        await worker.StopAsync();
        Assert.Equal(0, counters.DeadLettered);

        foreach (var (host, _) in hosts)
        {
            var analysis = LastPoint(h, "analysis", host);
            Assert.NotNull(analysis);
            Assert.Equal(expected[host]["events"], analysis["analysed_events"]);
            foreach (var field in Compared)
                Assert.True(expected[host][field] == analysis[field], $"{host} {field}: analyze {expected[host][field]}, InfluxDB {analysis[field]}");
            var agent = LastPoint(h, "agent", host);
            Assert.NotNull(agent);
            Assert.Equal(expected[host]["decode_errors"], agent["decode_errors"]);
        }
    }
}
