using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vmtrace.Agent;
using Vmtrace.Decoding;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.TestSupport;
using Vmtrace.Worker;
using Xunit.Abstractions;

namespace Vmtrace.Observability.Tests;

/// <summary>
/// /metrics and /healthz of a running agent and a running worker (in-process hosts, as <c>vmtrace agent</c> and
/// <c>vmtrace worker</c> build them) against librdkafka's mock cluster and a real influxd, replaying a sample trace:
/// the scraped counters are what the run did, counted independently (the trace's events by decoding it, the points
/// by asking influxd), and /healthz follows influxd and Kafka going away and coming back.
/// </summary>
public sealed partial class ServiceEndpointsTests(InfluxServer influx, ITestOutputHelper output) : IClassFixture<InfluxServer>
{
    private const string Host = "tcg-3vms";
    private static readonly string Trace = Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz");

    [InfluxFact]
    public async Task RunningAgentAndWorker_MetricsAreWhatTheRunDid_HealthFollowsInfluxAndKafka()
    {
        using var kafka = new MockKafkaCluster();
        var topics = new KafkaOptions { BootstrapServers = kafka.BootstrapServers };
        kafka.CreateVmtraceTopics(3, topics);
        string database = "endpoints_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Query(http, "CREATE DATABASE " + database, database);
        string deadLetters = Directory.CreateTempSubdirectory("vmtrace-endpoints-").FullName;
        try
        {
            var settings = Settings(kafka.BootstrapServers, database, deadLetters);
            using var worker = Build(settings, (s, c) => s.AddVmtraceWorker(c));
            await worker.StartAsync();
            var workerEndpoint = worker.Services.GetRequiredService<EndpointServer>().Address!;
            settings["Agent:HostId"] = Host;
            settings["Agent:Inputs:0"] = Trace;
            using var agent = Build(settings, (s, c) => s.AddVmtraceAgent(c));
            await agent.StartAsync();
            var agentEndpoint = agent.Services.GetRequiredService<EndpointServer>().Address!;
            var agentService = agent.Services.GetRequiredService<AgentService>();
            await agentService.Completion.WaitAsync(TimeSpan.FromMinutes(3));

            // The agent, still running after its replay (Agent:StopWhenDone=false): events read per CPU are the trace's.
            var perCpu = CountPerCpu(Trace);
            long dumpTotal = await DumpStatsEventsAsync(Trace);
            var traceStat = TraceStatPerCpu();
            var agentMetrics = await Scrape.MetricsAsync(agentEndpoint);
            var readByCpu = Scrape.ByLabel(agentMetrics, "vmtrace_agent_events_read_total", "cpu");
            output.WriteLine($"agent at {agentEndpoint}: events read by CPU {string.Join(", ", readByCpu.Select(kv => $"{kv.Key}={kv.Value}"))}; " +
                $"decoded {string.Join(", ", perCpu.Select(kv => $"{kv.Key}={kv.Value}"))}; dump --stats {dumpTotal}");
            Assert.Equal(perCpu.OrderBy(kv => kv.Key), readByCpu.OrderBy(kv => kv.Key));
            Assert.Equal(dumpTotal, readByCpu.Values.Sum());
            // trace-cmd's own per-CPU statistics at the recording (samples/tcg-3vms/trace-stat.txt): entries left in
            // the ring buffer plus those trace-cmd had already read are the events of each CPU in trace.dat.
            Assert.Equal(traceStat.OrderBy(kv => kv.Key), readByCpu.OrderBy(kv => kv.Key));
            var counters = agentService.Counters;
            Assert.Equal(dumpTotal, counters.EventsRead);
            Assert.Equal(counters.EventsSent, Scrape.Value(agentMetrics, "vmtrace_agent_events_sent_total"));
            Assert.Equal(counters.Batches, Scrape.Value(agentMetrics, "vmtrace_agent_batches_total"));
            Assert.Equal(counters.BatchBytes, Scrape.Value(agentMetrics, "vmtrace_agent_batch_bytes_total"));
            Assert.Equal(counters.RecordsProduced, Scrape.Value(agentMetrics, "vmtrace_agent_records_delivered_total"));
            Assert.Equal(0, Scrape.Value(agentMetrics, "vmtrace_agent_delivery_errors_total"));
            Assert.Equal(0, Scrape.Value(agentMetrics, "vmtrace_agent_events_lost_total"));
            Assert.Equal(0, Scrape.Value(agentMetrics, "vmtrace_agent_buffered_records"));
            Assert.DoesNotContain(agentMetrics.Keys, k => k.StartsWith("vmtrace_worker_", StringComparison.Ordinal) || k.StartsWith("vmtrace_analysis_", StringComparison.Ordinal));
            var agentHealth = await Scrape.HealthAsync(agentEndpoint);
            Assert.True(agentHealth.Code == HttpStatusCode.OK && agentHealth.Status == "Healthy", agentHealth.Body);
            Assert.Equal(["buffer", "kafka"], agentHealth.Checks.Keys.Order(StringComparer.Ordinal));

            // The worker, once it processed the whole session and InfluxDB took every point.
            var workerService = worker.Services.GetRequiredService<WorkerService>();
            var wc = workerService.Counters;
            await WaitUntil(() => wc.SessionsEnded == 1 && wc.PendingPoints == 0 && wc.AgentHealthRecords > 0 && wc.EventsIn == counters.EventsSent, TimeSpan.FromMinutes(3));
            var workerMetrics = await Scrape.MetricsAsync(workerEndpoint);
            long stored = StoredPoints(http, database);
            long written = Scrape.Value(workerMetrics, "vmtrace_worker_points_written_total");
            output.WriteLine($"worker at {workerEndpoint}: points written {written}, influxd holds {stored}");
            Assert.DoesNotContain(workerMetrics.Keys, k => k.StartsWith("vmtrace_agent_", StringComparison.Ordinal));
            Assert.Equal(stored, written);
            Assert.Equal(dumpTotal, Scrape.Value(workerMetrics, "vmtrace_worker_events_in_total"));
            Assert.Equal(wc.RecordsIn, Scrape.Value(workerMetrics, "vmtrace_worker_records_in_total"));
            Assert.Equal(wc.WindowsClosed, Scrape.Value(workerMetrics, "vmtrace_worker_windows_closed_total"));
            Assert.Equal(0, Scrape.Value(workerMetrics, "vmtrace_worker_dead_letters_total"));
            Assert.Equal(0, Scrape.Value(workerMetrics, "vmtrace_worker_points_dropped_by_retention_total"));
            Assert.Equal(0, Scrape.Value(workerMetrics, "vmtrace_worker_write_failures_total"));
            // The analysis counters are the host's final pipeline_health point (component=analysis) in influxd.
            var analysis = LastAnalysisPoint(http, database);
            Assert.Equal(dumpTotal, analysis["analysed_events"]);
            Assert.Equal(analysis["analysed_events"], Scrape.Value(workerMetrics, $"vmtrace_analysis_events_total{{host=\"{Host}\"}}"));
            Assert.Equal(analysis["inferred_switches"], Scrape.Value(workerMetrics, $"vmtrace_analysis_inferred_switches_total{{host=\"{Host}\"}}"));
            Assert.Equal(analysis["lost_exits"], Scrape.Value(workerMetrics, $"vmtrace_analysis_lost_exits_total{{host=\"{Host}\"}}"));
            Assert.Equal(analysis["unmatched_completions"], Scrape.Value(workerMetrics, $"vmtrace_analysis_unmatched_completions_total{{host=\"{Host}\"}}"));
            var healthy = await Scrape.HealthUntilAsync(workerEndpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(30));
            Assert.True(healthy.Code == HttpStatusCode.OK && healthy.Status == "Healthy", healthy.Body);
            Assert.Equal(["influxdb", "kafka", "lag"], healthy.Checks.Keys.Order(StringComparer.Ordinal));

            // influxd gone: Unhealthy (503) naming InfluxDB; back: Healthy again.
            influx.Kill();
            var down = await Scrape.HealthUntilAsync(workerEndpoint, h => h.Status == "Unhealthy", TimeSpan.FromSeconds(30));
            output.WriteLine("influxd killed: " + down.Body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Code);
            Assert.Equal("Unhealthy", down.Checks["influxdb"].Status);
            Assert.Contains("unreachable", down.Checks["influxdb"].Description, StringComparison.Ordinal);
            Assert.Equal("Healthy", down.Checks["kafka"].Status);
            // The worker's own view: its next health point (every second here) fails to be written.
            Assert.Equal(1, await MetricUntilAsync(workerEndpoint, "vmtrace_worker_influx_down", 1, TimeSpan.FromSeconds(60)));
            influx.Restart();
            var back = await Scrape.HealthUntilAsync(workerEndpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(60));
            Assert.True(back.Code == HttpStatusCode.OK && back.Status == "Healthy", back.Body);
            Assert.Equal(0, await MetricUntilAsync(workerEndpoint, "vmtrace_worker_influx_down", 0, TimeSpan.FromSeconds(60)));
            Assert.Equal(1, Scrape.Value(await Scrape.MetricsAsync(workerEndpoint), "vmtrace_worker_influx_outages_total"));

            // Kafka gone: both services Unhealthy naming Kafka; back: Healthy again.
            kafka.SetAllBrokersDown();
            var workerNoKafka = await Scrape.HealthUntilAsync(workerEndpoint, h => h.Status == "Unhealthy", TimeSpan.FromSeconds(60));
            var agentNoKafka = await Scrape.HealthUntilAsync(agentEndpoint, h => h.Status == "Unhealthy", TimeSpan.FromSeconds(60));
            output.WriteLine("Kafka down: " + agentNoKafka.Body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, workerNoKafka.Code);
            Assert.Equal("Unhealthy", workerNoKafka.Checks["kafka"].Status);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, agentNoKafka.Code);
            Assert.Equal("Unhealthy", agentNoKafka.Checks["kafka"].Status);
            Assert.Contains("did not answer", agentNoKafka.Checks["kafka"].Description, StringComparison.Ordinal);
            kafka.SetAllBrokersUp();
            var workerKafkaBack = await Scrape.HealthUntilAsync(workerEndpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(60));
            var agentKafkaBack = await Scrape.HealthUntilAsync(agentEndpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(60));
            Assert.True(workerKafkaBack.Status == "Healthy", workerKafkaBack.Body);
            Assert.True(agentKafkaBack.Status == "Healthy", agentKafkaBack.Body);

            await agent.StopAsync();
            await worker.StopAsync();
        }
        finally
        {
            Directory.Delete(deadLetters, recursive: true);
        }
    }

    [InfluxFact]
    public async Task WorkerBehindItsWatermarkBound_Degraded_HealthyOnceTheSessionEnded()
    {
        using var kafka = new MockKafkaCluster();
        kafka.CreateVmtraceTopics(3, new KafkaOptions { BootstrapServers = kafka.BootstrapServers });
        string database = "endpoints_lag_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Query(http, "CREATE DATABASE " + database, database);
        string deadLetters = Directory.CreateTempSubdirectory("vmtrace-endpoints-").FullName;
        try
        {
            var settings = Settings(kafka.BootstrapServers, database, deadLetters);
            // Any open window is "behind" by this bound: while the replay runs, the newest event is past the newest closed window.
            settings["Observability:MaxWatermarkLag"] = "00:00:00.0000001";
            using var worker = Build(settings, (s, c) => s.AddVmtraceWorker(c));
            await worker.StartAsync();
            var endpoint = worker.Services.GetRequiredService<EndpointServer>().Address!;
            settings["Agent:HostId"] = Host;
            settings["Agent:Inputs:0"] = Trace;
            settings["Agent:Speed"] = "2"; // the 11 s trace in about 6 s: long enough to be seen mid-way
            using var agent = Build(settings, (s, c) => s.AddVmtraceAgent(c));
            await agent.StartAsync();

            var behind = await Scrape.HealthUntilAsync(endpoint, h => h.Checks["lag"].Status == "Degraded", TimeSpan.FromMinutes(1));
            output.WriteLine("mid-replay: " + behind.Checks["lag"].Description);
            Assert.Equal(HttpStatusCode.OK, behind.Code); // Degraded still answers 200
            Assert.Equal("Degraded", behind.Status);
            Assert.Contains("above Observability:MaxWatermarkLag", behind.Checks["lag"].Description, StringComparison.Ordinal);
            var metrics = await Scrape.MetricsAsync(endpoint);
            Assert.True(metrics["vmtrace_worker_watermark_lag_seconds"] > 0, "the watermark lag gauge shows the lag mid-replay");

            await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
            var wc = worker.Services.GetRequiredService<WorkerService>().Counters;
            await WaitUntil(() => wc.SessionsEnded == 1 && wc.PendingPoints == 0, TimeSpan.FromMinutes(2));
            // The session's end closes its last window at its last event: no lag left.
            var caughtUp = await Scrape.HealthUntilAsync(endpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(30));
            Assert.True(caughtUp.Status == "Healthy", caughtUp.Body);
            Assert.Equal(0, Scrape.Value(await Scrape.MetricsAsync(endpoint), "vmtrace_worker_watermark_lag_seconds"));
            await agent.StopAsync();
            await worker.StopAsync();
        }
        finally
        {
            Directory.Delete(deadLetters, recursive: true);
        }
    }

    [Fact]
    public async Task AgentWithKafkaDown_BufferDegradedSourceBlockedInMetrics_HealthyWhenDelivered()
    {
        using var kafka = new MockKafkaCluster();
        kafka.CreateVmtraceTopics(3, new KafkaOptions { BootstrapServers = kafka.BootstrapServers });
        kafka.SetAllBrokersDown();
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Agent:HostId"] = Host,
            ["Agent:Inputs:0"] = Trace,
            ["Agent:StopWhenDone"] = "false",
            // The smallest buffer (1 MiB) and small records: the trace cannot fit in it while Kafka is down.
            ["Agent:MaxBufferedKiB"] = "1024",
            ["Agent:BatchMaxEvents"] = "4096",
            ["Observability:Port"] = "0",
            ["Observability:Address"] = "127.0.0.1",
            ["Observability:CheckTimeout"] = "00:00:01",
        };
        using var agent = Build(settings, (s, c) => s.AddVmtraceAgent(c));
        await agent.StartAsync();
        var endpoint = agent.Services.GetRequiredService<EndpointServer>().Address!;
        var service = agent.Services.GetRequiredService<AgentService>();

        var blocked = await Scrape.HealthUntilAsync(endpoint, h => h.Checks["buffer"].Status == "Degraded", TimeSpan.FromMinutes(1));
        output.WriteLine("Kafka down: " + blocked.Body);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, blocked.Code);
        Assert.Equal("Unhealthy", blocked.Checks["kafka"].Status);
        Assert.Contains("waits for buffer space", blocked.Checks["buffer"].Description, StringComparison.Ordinal);
        var metrics = await Scrape.MetricsAsync(endpoint);
        Assert.Equal(1, Scrape.Value(metrics, "vmtrace_agent_source_blocked"));
        Assert.Equal(0, Scrape.Value(metrics, "vmtrace_agent_records_delivered_total"));
        Assert.True(Scrape.Value(metrics, "vmtrace_agent_buffered_bytes") > 0);
        Assert.Equal(1024 * 1024, Scrape.Value(metrics, "vmtrace_agent_buffer_capacity_bytes"));

        kafka.SetAllBrokersUp();
        await service.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        var healthy = await Scrape.HealthUntilAsync(endpoint, h => h.Status == "Healthy", TimeSpan.FromSeconds(60));
        Assert.True(healthy.Status == "Healthy", healthy.Body);
        metrics = await Scrape.MetricsAsync(endpoint);
        var c = service.Counters;
        Assert.Equal(0, Scrape.Value(metrics, "vmtrace_agent_source_blocked"));
        Assert.True(c.BufferFullWaits > 0);
        Assert.Equal(c.BufferFullWaits, Scrape.Value(metrics, "vmtrace_agent_buffer_full_waits_total"));
        Assert.Equal(c.RecordsProduced, Scrape.Value(metrics, "vmtrace_agent_records_delivered_total"));
        Assert.Equal(c.EventsRead, Scrape.ByLabel(metrics, "vmtrace_agent_events_read_total", "cpu").Values.Sum());
        await agent.StopAsync();
    }

    private Dictionary<string, string?> Settings(string bootstrap, string database, string deadLetters) => new()
    {
        ["Kafka:BootstrapServers"] = bootstrap,
        ["Worker:GroupId"] = "endpoints",
        ["Worker:CheckpointInterval"] = "00:00:01",
        ["Worker:FlushInterval"] = "00:00:00.100",
        ["Worker:HealthInterval"] = "00:00:01",
        ["Worker:OutageRetryDelay"] = "00:00:00.500",
        ["Worker:InstanceName"] = "endpoints",
        ["Worker:DeadLetterDirectory"] = deadLetters,
        ["Influx:Url"] = influx.Url,
        ["Influx:Database"] = database,
        ["Influx:RetentionPolicy"] = "",
        ["Influx:MaxRetries"] = "2",
        ["Influx:RetryBaseDelay"] = "00:00:00.100",
        ["Influx:MaxRetryDelay"] = "00:00:00.500",
        ["Influx:AttemptTimeout"] = "00:00:05",
        ["Influx:CircuitBreakDuration"] = "00:00:01",
        ["Agent:StopWhenDone"] = "false",
        ["Agent:HeartbeatInterval"] = "00:00:00.200",
        ["Observability:Port"] = "0",
        ["Observability:Address"] = "127.0.0.1",
        ["Observability:CheckTimeout"] = "00:00:02",
    };

    /// <summary>A host as <c>vmtrace agent</c> and <c>vmtrace worker</c> build it: the endpoints first (ServiceHost), then the service.</summary>
    internal static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> add)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddVmtraceEndpoints(builder.Configuration);
        add(builder.Services, builder.Configuration);
        return builder.Build();
    }

    /// <summary>The trace's events per CPU, decoded here as <c>vmtrace dump</c> decodes them (cpu "none": no CPU).</summary>
    private static Dictionary<string, long> CountPerCpu(string trace)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        using var source = TraceOpener.Open(trace);
        while (source.MoveNext())
        {
            int cpu = source.Current.Cpu;
            string key = cpu < 0 ? "none" : cpu.ToString(CultureInfo.InvariantCulture);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    /// <summary>"events: N" of <c>vmtrace dump --stats</c>.</summary>
    private static async Task<long> DumpStatsEventsAsync(string trace)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["dump", trace, "--stats", "--no-progress"], stdout, stderr);
        Assert.True(rc == 0, $"vmtrace dump exited {rc}: {stderr}");
        return long.Parse(EventsLine().Match(stdout.ToString()).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Per CPU, "entries" + "read events" of trace-cmd's statistics saved beside the sample.</summary>
    private static Dictionary<string, long> TraceStatPerCpu()
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        string text = File.ReadAllText(Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace-stat.txt"));
        foreach (Match m in TraceStatCpu().Matches(text))
            result[m.Groups["cpu"].Value] = long.Parse(m.Groups["entries"].Value, CultureInfo.InvariantCulture) + long.Parse(m.Groups["read"].Value, CultureInfo.InvariantCulture);
        Assert.NotEmpty(result);
        return result;
    }

    [GeneratedRegex(@"^events: (\d+)$", RegexOptions.Multiline)]
    private static partial Regex EventsLine();

    [GeneratedRegex(@"CPU: (?<cpu>\d+)\nentries: (?<entries>\d+)\n(?:.*\n)*?read events: (?<read>\d+)")]
    private static partial Regex TraceStatCpu();

    /// <summary>Every point influxd holds in the database (all measurements, each series counted row by row).</summary>
    private long StoredPoints(HttpClient http, string database)
    {
        using var doc = JsonDocument.Parse(Query(http, "SELECT * FROM /.*/ GROUP BY *", database));
        long n = 0;
        var result = doc.RootElement.GetProperty("results")[0];
        if (result.TryGetProperty("series", out var series))
        {
            foreach (var s in series.EnumerateArray())
                n += s.GetProperty("values").GetArrayLength();
        }
        return n;
    }

    /// <summary>The newest pipeline_health point of the analysis of <see cref="Host"/>, field → value.</summary>
    private Dictionary<string, long> LastAnalysisPoint(HttpClient http, string database)
    {
        using var doc = JsonDocument.Parse(Query(http, $"SELECT * FROM pipeline_health WHERE component = 'analysis' AND host = '{Host}' ORDER BY time DESC LIMIT 1", database));
        var series = doc.RootElement.GetProperty("results")[0].GetProperty("series")[0];
        var columns = series.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        var point = new Dictionary<string, long>(StringComparer.Ordinal);
        int i = 0;
        foreach (var value in series.GetProperty("values")[0].EnumerateArray())
        {
            if (value.ValueKind == JsonValueKind.Number)
                point[columns[i]] = value.GetInt64();
            i++;
        }
        return point;
    }

    private string Query(HttpClient http, string q, string database) => QueryAt(http, influx.Url, q, database);

    private static string QueryAt(HttpClient http, string url, string q, string database)
    {
        var uri = $"{url}/query?db={Uri.EscapeDataString(database)}&epoch=ns&q={Uri.EscapeDataString(q)}";
        using var response = q.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            ? http.GetAsync(uri).GetAwaiter().GetResult()
            : http.PostAsync(uri, null).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"InfluxQL '{q}' → {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>Scrapes until the sample equals <paramref name="expected"/> (or the limit passed); returns its last value.</summary>
    private static async Task<long> MetricUntilAsync(Uri endpoint, string sample, long expected, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        long value;
        do
        {
            value = Scrape.Value(await Scrape.MetricsAsync(endpoint), sample);
            if (value == expected)
                return value;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < until);
        return value;
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(100);
        Assert.True(condition(), "condition not reached within " + limit);
    }
}
