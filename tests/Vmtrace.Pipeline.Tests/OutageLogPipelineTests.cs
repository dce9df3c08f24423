using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vmtrace.Agent;
using Vmtrace.TestSupport;
using Vmtrace.Worker;
using Xunit.Abstractions;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// Outages are quiet and visible: a hung influxd (SIGSTOP) and Kafka brokers taken down, each mid-stream with the real
/// components, give one line when the dependency goes down, a summary while down, one line when it is back — never a
/// flood — and InfluxDB ends up holding exactly <c>vmtrace analyze</c>'s points. The outage length is a parameter.
/// </summary>
public sealed class OutageLogPipelineTests(InfluxServer influx, ITestOutputHelper output) : IClassFixture<InfluxServer>
{
    private static readonly string[] Inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
    private const string Host = "tcg-3vms";
    private static readonly TimeSpan Summary = TimeSpan.FromSeconds(2);

    /// <summary>The figure: influxd stopped for 60 s (benchmark category: a minute and a half of wall time).</summary>
    [InfluxFact]
    [Trait("Category", "Benchmark")]
    public Task InfluxdHung60s() => InfluxdHungMidStream_OneLineDownSummariesOneLineBack_PointsExact(60);

    /// <summary>The figure: Kafka down for 60 s (benchmark category).</summary>
    [InfluxFact]
    [Trait("Category", "Benchmark")]
    public Task KafkaDown60s() => KafkaBrokersDownMidStream_AgentAndWorkerLogOneLineDownSummariesOneLineBack_PointsExact(60);

    [InfluxTheory]
    [InlineData(8)]
    public async Task InfluxdHungMidStream_OneLineDownSummariesOneLineBack_PointsExact(int hangSeconds)
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var server = new InfluxServer(); // of its own: this test stops it
        using var h = new PipelineHarness(server);
        var settings = h.Settings("hang");
        settings["Worker:WriteStallTimeout"] = "00:00:01";
        settings["Worker:OutageSummaryInterval"] = "00:00:02";
        var logs = new LogCapture();
        using var worker = BuildHost(settings, logs, (s, c) => s.AddVmtraceWorker(c));
        using var agent = h.Agent(Inputs, Host);
        agent.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Speed = TraceSeconds(expected) / (hangSeconds + 10);
        await worker.StartAsync();
        await agent.StartAsync();
        var service = worker.Services.GetRequiredService<WorkerService>();
        var counters = service.Counters;
        await WaitUntil(() => counters.PointsWritten > 0, TimeSpan.FromMinutes(2));
        // On a loaded machine a write can stall past the 1 s WriteStallTimeout before the hang, which is an outage of
        // its own, logged down and back: the lines counted are the hang's, from a moment the server was reported up.
        await WaitUntil(() => !service.Outages.Influx.Outage.IsDown, TimeSpan.FromMinutes(1));
        int mark = logs.Mark();

        server.Pause();
        var hung = Stopwatch.StartNew();
        bool seenDown = false;
        while (hung.Elapsed < TimeSpan.FromSeconds(hangSeconds))
        {
            seenDown |= service.Outages.Influx.Outage.IsDown;
            await Task.Delay(100);
        }
        // Reported while it lasts, though no write failed yet (each attempt waits Influx:AttemptTimeout = 5 s).
        Assert.True(seenDown, "the hung server was not reported down while it hung");
        Assert.Equal(1, logs.CountSince(mark, "InfluxDB unreachable"));
        server.Resume();

        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(3), () => counters.SessionsEnded == 1);
        // The health measurement counts it (a point written after the outage).
        await WaitUntil(() => LastHealthField(h, "influx_outages") >= 1, TimeSpan.FromSeconds(30));
        await agent.StopAsync();
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.False(service.Outages.Influx.Outage.IsDown);
        Assert.Equal(1, logs.CountSince(mark, "InfluxDB unreachable"));
        Assert.Equal(1, logs.CountSince(mark, "InfluxDB reachable again"));
        int summaries = logs.CountSince(mark, "InfluxDB still unreachable");
        Assert.InRange(summaries, 1, hangSeconds / (int)Summary.TotalSeconds + 2);
        Assert.True(service.Outages.WriteStalls >= 1);
        Assert.True(LastHealthField(h, "write_stalls") >= 1);
        // Sampled while the write hung (HealthInterval 2 s): stored with their sampling time once influxd answered.
        Assert.Equal(1, MaxHealthField(h, "influx_down"));
        int warnings = logs.Since(mark).Count(l => l.Level >= LogLevel.Warning);
        output.WriteLine($"influxd stopped {hangSeconds} s: {warnings} warning line(s) in all, {summaries} summary line(s):\n" +
            string.Join("\n", logs.Since(mark).Where(l => l.Level >= LogLevel.Warning).Select(l => l.Message)));
        Assert.True(warnings <= 1 + summaries, $"{warnings} warning lines for one outage");
    }

    [InfluxTheory]
    [InlineData(6)]
    public async Task KafkaBrokersDownMidStream_AgentAndWorkerLogOneLineDownSummariesOneLineBack_PointsExact(int outageSeconds)
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        var kafka = h.MockKafka;
        Assert.True(kafka is not null, "this test takes the brokers down, which needs the mock cluster (KAFKA_BOOTSTRAP_SERVERS is set)");
        var settings = h.Settings("kafka-down");
        settings["Worker:OutageSummaryInterval"] = "00:00:02";
        settings["Agent:HealthInterval"] = "00:00:02";
        settings["Agent:HostId"] = Host;
        for (int i = 0; i < Inputs.Length; i++)
            settings[$"Agent:Inputs:{i}"] = Inputs[i];
        var workerLogs = new LogCapture();
        var agentLogs = new LogCapture();
        using var worker = BuildHost(settings, workerLogs, (s, c) => s.AddVmtraceWorker(c));
        using var agent = BuildHost(settings, agentLogs, (s, c) => s.AddVmtraceAgent(c));
        agent.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Speed = TraceSeconds(expected) / (outageSeconds + 10);
        await worker.StartAsync();
        await agent.StartAsync();
        var service = worker.Services.GetRequiredService<WorkerService>();
        var counters = service.Counters;
        var agentService = agent.Services.GetRequiredService<AgentService>();
        await WaitUntil(() => counters.PointsWritten > 0, TimeSpan.FromMinutes(2));

        kafka.SetAllBrokersDown();
        var brokersDown = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(outageSeconds));
        // librdkafka tells an idle consumer of lost brokers at its next request or reconnect attempt: on a loaded
        // machine that can take longer than the outage. The brokers stay down until the worker has seen it.
        await WaitUntil(() => service.Outages.Kafka.Outage.IsDown, TimeSpan.FromSeconds(30));
        kafka.SetAllBrokersUp();
        int outageLasted = (int)Math.Ceiling(brokersDown.Elapsed.TotalSeconds);
        output.WriteLine($"brokers down for {brokersDown.Elapsed.TotalSeconds:F1} s");

        await agentService.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(3), () => counters.SessionsEnded == 1 && !service.Outages.Kafka.Outage.IsDown);
        await agent.StopAsync();
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(0, agentService.Counters.DeliveryErrors);
        Assert.Equal(agentService.Counters.RecordsProduced, agentService.Counters.Delivered);

        foreach (var (who, logs) in new[] { ("worker", workerLogs), ("agent", agentLogs) })
        {
            // Every line about Kafka but the replay's closing one ("… all acknowledged by Kafka").
            var kafkaLines = logs.Lines.Where(l => l.Message.Contains("Kafka", StringComparison.Ordinal) && !l.Message.Contains("acknowledged by Kafka", StringComparison.Ordinal))
                .Select(l => l.Message).ToList();
            output.WriteLine($"{who}: {kafkaLines.Count} Kafka line(s) for a {outageSeconds} s outage:\n  " + string.Join("\n  ", kafkaLines));
            int down = logs.Count("Kafka unreachable"), back = logs.Count("Kafka reachable again"), summaries = logs.Count("Kafka still unreachable");
            // librdkafka may report a connection error again just after the brokers return: at most one more short outage.
            Assert.InRange(down, 1, 2);
            Assert.Equal(down, back);
            Assert.InRange(summaries, 0, outageLasted / (int)Summary.TotalSeconds + 2);
            Assert.Equal(down + back + summaries, kafkaLines.Count);
            Assert.DoesNotContain(logs.Lines, l => l.Message.Contains("   at ", StringComparison.Ordinal)); // no stack trace
        }
        // The worker's health measurement showed the state while it lasted (InfluxDB was up, so those points are stored).
        Assert.Equal(1, MaxHealthField(h, "kafka_down"));
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, LogCapture logs, Action<IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration> add) =>
        PipelineHarness.Build(settings, (s, c) =>
        {
            add(s, c);
            s.AddSingleton<ILoggerProvider>(logs);
            s.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Information);
        });

    private static double TraceSeconds(SortedSet<string> points)
    {
        var times = points.Select(p => long.Parse(p[(p.LastIndexOf('|') + 1)..], CultureInfo.InvariantCulture)).ToList();
        return (times.Max() - times.Min()) / 1e9 + 1;
    }

    private static long LastHealthField(PipelineHarness h, string field) => HealthField(h, $"SELECT last({field}) FROM pipeline_health WHERE component = 'worker'");

    private static long MaxHealthField(PipelineHarness h, string field) => HealthField(h, $"SELECT max({field}) FROM pipeline_health WHERE component = 'worker'");

    private static long HealthField(PipelineHarness h, string query)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(h.Query(query));
        var r = doc.RootElement.GetProperty("results")[0];
        return r.TryGetProperty("series", out var s) ? s[0].GetProperty("values")[0][1].GetInt64() : -1;
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(100);
        Assert.True(condition(), "condition not reached within " + limit);
    }
}
