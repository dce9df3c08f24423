using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vmtrace.Agent;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// One end-to-end setup: a Kafka (librdkafka mock cluster over TCP, or KAFKA_BOOTSTRAP_SERVERS with fresh
/// topic names), a database of its own in a real influxd, and helpers to run agents and workers in-process.
/// </summary>
internal sealed class PipelineHarness : IDisposable
{
    private static int s_next;
    private readonly MockKafkaCluster? _mock;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public PipelineHarness(InfluxServer influx, int partitions = 3)
    {
        Influx = influx;
        int n = Interlocked.Increment(ref s_next);
        string suffix = $"{Environment.ProcessId}_{n}";
        Database = "e2e_" + suffix;
        if (Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS") is { Length: > 0 } real)
        {
            // A real broker: topics named for this run (created by the broker's auto-create or kafka/create-topics.sh).
            Kafka = new KafkaOptions { BootstrapServers = real, EventsTopic = "vmtrace.events." + suffix, StateTopic = "vmtrace.state." + suffix, DeadLetterTopic = "vmtrace.deadletter." + suffix };
        }
        else
        {
            _mock = new MockKafkaCluster();
            Kafka = new KafkaOptions { BootstrapServers = _mock.BootstrapServers };
            _mock.CreateVmtraceTopics(partitions, Kafka);
        }
        GroupId = "workers_" + suffix;
        DeadLetterDirectory = Path.Combine(Path.GetTempPath(), "vmtrace-deadletter-" + suffix);
        Query("CREATE DATABASE " + Database);
    }

    public InfluxServer Influx { get; }

    public string Database { get; }

    public KafkaOptions Kafka { get; }

    public string GroupId { get; }

    /// <summary>The workers' dead-letter directory (points InfluxDB rejected).</summary>
    public string DeadLetterDirectory { get; }

    /// <summary>Settings shared by in-process hosts and worker processes (Section:Key → value).</summary>
    public Dictionary<string, string?> Settings(string? instance = null) => new()
    {
        ["Kafka:BootstrapServers"] = Kafka.BootstrapServers,
        ["Kafka:EventsTopic"] = Kafka.EventsTopic,
        ["Kafka:StateTopic"] = Kafka.StateTopic,
        ["Kafka:DeadLetterTopic"] = Kafka.DeadLetterTopic,
        ["Worker:GroupId"] = GroupId,
        ["Worker:CheckpointInterval"] = "00:00:01",
        ["Worker:FlushInterval"] = "00:00:00.100",
        ["Worker:HealthInterval"] = "00:00:02",
        ["Worker:OutageRetryDelay"] = "00:00:00.500",
        ["Worker:InstanceName"] = instance ?? "test",
        ["Worker:DeadLetterDirectory"] = DeadLetterDirectory,
        ["Influx:Url"] = Influx.Url,
        ["Influx:Database"] = Database,
        ["Influx:RetentionPolicy"] = "",
        ["Influx:MaxRetries"] = "2",
        ["Influx:RetryBaseDelay"] = "00:00:00.100",
        ["Influx:MaxRetryDelay"] = "00:00:00.500",
        ["Influx:AttemptTimeout"] = "00:00:05",
        ["Influx:CircuitBreakDuration"] = "00:00:01",
        ["Agent:StopWhenDone"] = "false",
        ["Agent:HeartbeatInterval"] = "00:00:00.200",
    };

    public IHost Worker(string instance = "test") => PipelineHarnessHosts.Worker(Settings(instance));

    /// <summary>The mock cluster, or null when KAFKA_BOOTSTRAP_SERVERS points at a real broker.</summary>
    public MockKafkaCluster? MockKafka => _mock;

    public IHost Agent(IReadOnlyList<string> inputs, string host, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = Settings();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        settings["Agent:HostId"] = host;
        for (int i = 0; i < inputs.Count; i++)
            settings[$"Agent:Inputs:{i}"] = inputs[i];
        return Build(settings, (s, c) => s.AddVmtraceAgent(c));
    }

    internal static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> add)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        add(builder.Services, builder.Configuration);
        return builder.Build();
    }

    /// <summary>Replays inputs with an in-process agent and waits until Kafka acknowledged everything.</summary>
    public async Task ReplayAsync(IReadOnlyList<string> inputs, string host, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        using var agent = Agent(inputs, host, overrides);
        await agent.StartAsync();
        await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
        await agent.StopAsync();
    }

    /// <summary>What <c>vmtrace analyze --format line-protocol</c> prints for these inputs.</summary>
    public static async Task<SortedSet<string>> AnalyzeAsync(IReadOnlyList<string> inputs, string host)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["analyze", .. inputs, "--format", "line-protocol", "--host", host, "--no-progress"], stdout, stderr);
        Assert.True(rc == 0, $"vmtrace analyze exited {rc}: {stderr}");
        return PointSet.FromLineProtocol(stdout.ToString());
    }

    /// <summary>Every vmtrace_* point in the database, queried back with InfluxQL.</summary>
    public SortedSet<string> Points(string? database = null) => PointSet.FromInfluxQl(Query("SELECT * FROM /^vmtrace_/ GROUP BY *", database));

    public long HealthPoints()
    {
        var json = Query("SELECT count(records_in) FROM pipeline_health");
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var r = doc.RootElement.GetProperty("results")[0];
        return r.TryGetProperty("series", out var s) ? s[0].GetProperty("values")[0][1].GetInt64() : 0;
    }

    /// <summary>Waits (polling, up to <paramref name="limit"/>) until the database holds exactly <paramref name="expected"/>; returns what it holds last.</summary>
    public async Task<SortedSet<string>> WaitForPointsAsync(SortedSet<string> expected, TimeSpan limit, Func<bool>? alsoDone = null, string? database = null)
    {
        var until = DateTime.UtcNow + limit;
        SortedSet<string> actual;
        do
        {
            actual = Points(database);
            if (actual.SetEquals(expected) && (alsoDone?.Invoke() ?? true))
                return actual;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < until);
        return actual;
    }

    public static string Diff(SortedSet<string> expected, SortedSet<string> actual)
    {
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        var sb = new StringBuilder();
        sb.Append($"expected {expected.Count} points, got {actual.Count}; {missing.Count} missing, {extra.Count} unexpected\n");
        foreach (var m in missing.Take(5)) sb.Append("  missing: ").Append(m).Append('\n');
        foreach (var x in extra.Take(5)) sb.Append("  unexpected: ").Append(x).Append('\n');
        return sb.ToString();
    }

    public string Query(string q, string? database = null)
    {
        var uri = $"{Influx.Url}/query?db={Uri.EscapeDataString(database ?? Database)}&epoch=ns&q={Uri.EscapeDataString(q)}";
        using var response = q.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            ? _http.GetAsync(uri).GetAwaiter().GetResult()
            : _http.PostAsync(uri, null).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"InfluxQL '{q}' → {(int)response.StatusCode}: {body}");
        return body;
    }

    public void Dispose()
    {
        _http.Dispose();
        _mock?.Dispose();
        if (Directory.Exists(DeadLetterDirectory))
            Directory.Delete(DeadLetterDirectory, recursive: true);
    }
}

internal static class PipelineHarnessHosts
{
    public static IHost Worker(Dictionary<string, string?> settings) => PipelineHarness.Build(settings, (s, c) => s.AddVmtraceWorker(c));
}
