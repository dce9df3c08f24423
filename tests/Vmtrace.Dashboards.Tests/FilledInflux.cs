using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vmtrace.Agent;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// A real influxd filled the way production fills it: agents replay real traces into Kafka (the librdkafka mock
/// cluster over TCP), the real worker analyses them and writes the points and its pipeline_health; the
/// retention policies are vmtrace's (raw default, rollup_1m, rollup_1h; here with infinite duration, as
/// hip24 is timestamped in 1970) and the rollups are back-filled with the continuous queries' own SELECT.
/// One host has history: <see cref="HistoryHost"/>'s trace is replayed again on each of the
/// <see cref="HistoryDays"/> − 1 days before its recording (Agent:Replay:Shift), as the same host, so the capacity
/// dashboard's daily trends and its Holt-Winters forecast (a weekly season needs two weeks) have days to work on.
/// </summary>
public sealed class FilledInflux : IDisposable
{
    public const string Database = "vmtrace";

    /// <summary>host tag → inputs. TCG traces (no KVM events) and a KVM trace (hip24: exits, no disk or network).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Hosts = new Dictionary<string, string[]>
    {
        ["tcg-s2"] = ["tcg-qemu/s2-cpu-contention/trace.dat.xz", "tcg-qemu/s2-cpu-contention/qemu-vmA.log", "tcg-qemu/s2-cpu-contention/qemu-vmB.log", "tcg-qemu/s2-cpu-contention/qemu-vmC.log"],
        ["tcg-s3"] = ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"],
        ["tcg-s4"] = ["tcg-qemu/s4-net/trace.dat.xz", "tcg-qemu/s4-net/qemu-vmN.log.xz"],
        ["hip24"] = ["hip24-kvm-host-2vms-46s/host.trace.dat"],
    };

    /// <summary>The host whose agent replays at 3× recorded speed, reporting its health every second over ~15 s.</summary>
    public const string PacedHost = "hip24";

    /// <summary>The host whose trace is also replayed on earlier days.</summary>
    public const string HistoryHost = "tcg-s2";

    /// <summary>Days the history host has data on: two of the forecast's 7-day seasons (InfluxDB's holt_winters needs 2 × season points).</summary>
    public const int HistoryDays = 14;

    private readonly InfluxServer _server = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(120) };
    private readonly Lazy<Task> _filled;

    public FilledInflux()
    {
        _filled = new Lazy<Task>(FillAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Url => _server.Url;

    public string ServerLog => _server.Log;

    public Task EnsureFilledAsync() => _filled.Value;

    private async Task FillAsync()
    {
        Query("CREATE DATABASE " + Database);
        Query($"CREATE RETENTION POLICY \"raw\" ON {Database} DURATION INF REPLICATION 1 DEFAULT");
        Query($"CREATE RETENTION POLICY \"rollup_1m\" ON {Database} DURATION INF REPLICATION 1");
        Query($"CREATE RETENTION POLICY \"rollup_1h\" ON {Database} DURATION INF REPLICATION 1");

        using var kafka = new MockKafkaCluster();
        var names = new KafkaOptions { BootstrapServers = kafka.BootstrapServers };
        kafka.CreateVmtraceTopics(4, names);
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = names.BootstrapServers,
            ["Worker:GroupId"] = "dashboards",
            ["Worker:CheckpointInterval"] = "00:00:01",
            ["Worker:FlushInterval"] = "00:00:00.100",
            ["Worker:HealthInterval"] = "00:00:01",
            ["Worker:InstanceName"] = "dash-test",
            ["Influx:Url"] = Url,
            ["Influx:Database"] = Database,
            ["Influx:RetentionPolicy"] = "",
            ["Agent:StopWhenDone"] = "false",
            ["Agent:HeartbeatInterval"] = "00:00:00.200",
        };
        using var worker = Build(settings, (s, c) => s.AddVmtraceWorker(c));
        await worker.StartAsync();
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var replays = Hosts.Select(async h =>
        {
            var agentSettings = new Dictionary<string, string?>(settings) { ["Agent:HostId"] = h.Key };
            if (h.Key == PacedHost)
            {
                // The agent health panels show rates (non_negative_derivative per ≥ 10 s bucket): one host's agent
                // must report over more than a bucket, which the other replays, as fast as possible, do not
                // (whether their few points straddle a boundary was chance). 46 s of trace at 3× = ~15 s.
                agentSettings["Agent:Speed"] = "3";
                agentSettings["Agent:HealthInterval"] = "00:00:01";
            }
            for (int i = 0; i < h.Value.Length; i++)
                agentSettings[$"Agent:Inputs:{i}"] = Corpus.Path(h.Value[i]);
            using var agent = Build(agentSettings, (s, c) => s.AddVmtraceAgent(c));
            await agent.StartAsync();
            await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
            await agent.StopAsync();
        }).ToList();
        await Task.WhenAll(replays);

        // History: the same recording on each earlier day, one session after the other (one host is one ordered stream).
        for (int day = 1; day < HistoryDays; day++)
        {
            var agentSettings = new Dictionary<string, string?>(settings)
            {
                ["Agent:HostId"] = HistoryHost,
                ["Agent:Replay:Shift"] = TimeSpan.FromDays(-day).ToString(),
            };
            for (int i = 0; i < Hosts[HistoryHost].Length; i++)
                agentSettings[$"Agent:Inputs:{i}"] = Corpus.Path(Hosts[HistoryHost][i]);
            using var agent = Build(agentSettings, (s, c) => s.AddVmtraceAgent(c));
            await agent.StartAsync();
            await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
            await agent.StopAsync();
        }
        int sessions = Hosts.Count + HistoryDays - 1;

        // Every host's session analysed and written; health points over more than one of the health
        // panels' 10 s intervals: their rates (non_negative_derivative per $__interval bucket) need points in
        // two buckets, which a fast run does not give by a point count alone.
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < until && (counters.SessionsEnded < sessions
            || Count("SELECT count(\"records_in\") FROM \"pipeline_health\"") < 4 || HealthSpanNs() < 11_000_000_000))
            await Task.Delay(250);
        await worker.StopAsync();
        if (counters.SessionsEnded < sessions)
            throw new InvalidOperationException($"the worker ended {counters.SessionsEnded} of {sessions} host sessions in 3 minutes");
        long pacedSpan = AgentHealthSpanNs(PacedHost);
        if (pacedSpan < 11_000_000_000)
            throw new InvalidOperationException($"{PacedHost}'s agent health points span {pacedSpan / 1e9:F1} s, not the 11 s the agent rate panels need");

        // The continuous queries' own SELECT, run over each host's time range (CQs only cover recent time).
        foreach (var host in Hosts.Keys)
        {
            var (from, to) = HostRange(host);
            foreach (var (policy, interval) in new[] { ("rollup_1m", "1m"), ("rollup_1h", "1h") })
                Query($"SELECT sum(*), mean(*), max(*) INTO \"{Database}\".\"{policy}\".:MEASUREMENT FROM \"{Database}\".\"raw\"./^vmtrace_/ " +
                      $"WHERE host = '{host}' AND time >= {from} AND time <= {to} GROUP BY time({interval}), * fill(none)");
        }
    }

    /// <summary>First and last point time (ns) of a host, from vmtrace_vm.</summary>
    public (long From, long To) HostRange(string host)
    {
        // One selector per query: with two (first and last) InfluxDB reports time 0, not the point's time.
        using var doc = JsonDocument.Parse(Query($"SELECT first(\"window_ns\") FROM \"vmtrace_vm\" WHERE host = '{host}'"));
        var values = doc.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values");
        long first = values[0][0].GetInt64();
        using var doc2 = JsonDocument.Parse(Query($"SELECT last(\"window_ns\") FROM \"vmtrace_vm\" WHERE host = '{host}'"));
        long last = doc2.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][0].GetInt64();
        return (first, last + 1_000_000_000);
    }

    /// <summary>Time between the first and the last pipeline_health point (ns), 0 while there are fewer than two.</summary>
    private long HealthSpanNs() => Count("SELECT count(\"records_in\") FROM \"pipeline_health\"") < 2 ? 0 : HealthRange().To - 1_000_000_000 - HealthRange().From;

    /// <summary>Time between the first and the last agent health point of a host (ns).</summary>
    private long AgentHealthSpanNs(string host)
    {
        string where = $"WHERE \"component\" = 'agent' AND \"host\" = '{host}'";
        using var a = JsonDocument.Parse(Query($"SELECT first(\"events_read\") FROM \"pipeline_health\" {where}"));
        using var b = JsonDocument.Parse(Query($"SELECT last(\"events_read\") FROM \"pipeline_health\" {where}"));
        if (!a.RootElement.GetProperty("results")[0].TryGetProperty("series", out var first))
            return 0;
        long to = b.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][0].GetInt64();
        return to - first[0].GetProperty("values")[0][0].GetInt64();
    }

    /// <summary>First and last pipeline_health time (ns).</summary>
    public (long From, long To) HealthRange()
    {
        using var a = JsonDocument.Parse(Query("SELECT first(\"records_in\") FROM \"pipeline_health\""));
        using var b = JsonDocument.Parse(Query("SELECT last(\"records_in\") FROM \"pipeline_health\""));
        long first = a.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][0].GetInt64();
        long last = b.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][0].GetInt64();
        return (first, last + 1_000_000_000);
    }

    public long Count(string q)
    {
        using var doc = JsonDocument.Parse(Query(q));
        var r = doc.RootElement.GetProperty("results")[0];
        return r.TryGetProperty("series", out var s) ? s[0].GetProperty("values")[0][1].GetInt64() : 0;
    }

    /// <summary>Runs InfluxQL (epoch=ns) and returns the JSON body; throws on an HTTP error.</summary>
    public string Query(string q)
    {
        var uri = $"{Url}/query?db={Database}&epoch=ns&q={Uri.EscapeDataString(q)}";
        bool read = q.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && !q.Contains(" INTO ", StringComparison.OrdinalIgnoreCase)
                    || q.StartsWith("SHOW", StringComparison.OrdinalIgnoreCase);
        using var response = read ? _http.GetAsync(uri).GetAwaiter().GetResult() : _http.PostAsync(uri, null).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"InfluxQL '{q}' → {(int)response.StatusCode}: {body}");
        return body;
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> add)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        add(builder.Services, builder.Configuration);
        return builder.Build();
    }

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
    }
}
