using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vmtrace.Agent;
using Vmtrace.TestSupport;
using Vmtrace.Worker;
using Xunit.Abstractions;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// The agent's side end to end: its counters reach InfluxDB through the worker (the agent has no InfluxDB
/// connection), and with Kafka down it blocks its source instead of dropping, then delivers everything.
/// </summary>
public sealed class AgentHealthPipelineTests(InfluxServer influx, ITestOutputHelper output) : IClassFixture<InfluxServer>
{
    private static readonly string[] Inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
    private const string Host = "tcg-3vms";

    [InfluxFact]
    public async Task Replay_AgentCountersReachPipelineHealth_FinalPointEqualsTheAgentsTotals()
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        using var worker = h.Worker();
        await worker.StartAsync();
        // A health record after (nearly) every batch, so several arrive during the replay, not only the final one.
        using var agent = h.Agent(Inputs, Host, new Dictionary<string, string?> { ["Agent:HealthInterval"] = "00:00:00.001", ["Agent:BatchMaxEvents"] = "8192" });
        await agent.StartAsync();
        var agentCounters = agent.Services.GetRequiredService<AgentService>().Counters;
        await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
        await agent.StopAsync();
        var workerCounters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2),
            () => workerCounters.SessionsEnded == 1 && AgentPoints(h).Count == workerCounters.AgentHealthRecords && workerCounters.PendingPoints == 0);
        await worker.StopAsync();

        // Health records change nothing in the analysis.
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        var points = AgentPoints(h);
        Assert.True(points.Count >= 2, $"expected periodic agent health points, got {points.Count}");
        Assert.Equal(workerCounters.AgentHealthRecords, points.Count);
        for (int i = 1; i < points.Count; i++)
            Assert.True(points[i]["events_read"] >= points[i - 1]["events_read"], "counters only grow");

        var last = points[^1];
        Assert.Equal(agentCounters.EventsRead, last["events_read"]);
        Assert.Equal(agentCounters.EventsSent, last["events_sent"]);
        Assert.Equal(workerCounters.EventsIn, last["events_sent"]); // what the worker counted on its side
        Assert.Equal(agentCounters.Batches, last["batches"]);
        Assert.Equal(agentCounters.BatchBytes, last["batch_bytes"]);
        Assert.Equal(agentCounters.TracerLostEvents, last["tracer_lost_events"]);
        Assert.Equal(agentCounters.EventsSkipped, last["events_skipped"]);
        // Taken after the final flush: everything produced before it was acknowledged, nothing is buffered.
        Assert.Equal(last["records_produced"], last["records_delivered"]);
        Assert.Equal(0, last["buffered_records"]);
        Assert.Equal(0, last["delivery_errors"]);
        Assert.Equal(agent.Services.GetRequiredService<IOptions<AgentOptions>>().Value.MaxBufferedKiB * 1024L, last["buffer_capacity_bytes"]);
        output.WriteLine($"{points.Count} agent health points; last: {string.Join(", ", last.Select(kv => $"{kv.Key}={kv.Value}"))}");
    }

    [InfluxFact]
    public async Task KafkaDown_AgentBlocksItsSourceWithoutDropping_EveryEventDeliveredOnceKafkaIsBack()
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        var kafka = h.MockKafka;
        Assert.True(kafka is not null, "this test takes the brokers down, which needs the mock cluster (KAFKA_BOOTSTRAP_SERVERS is set)");
        kafka.SetAllBrokersDown();

        // The smallest buffer (1 MiB) and small records, so the trace (several MB on the wire) cannot fit in it.
        const int bufferKiB = 1024;
        using var agent = h.Agent(Inputs, Host, new Dictionary<string, string?> { ["Agent:MaxBufferedKiB"] = $"{bufferKiB}", ["Agent:BatchMaxEvents"] = "4096" });
        await agent.StartAsync();
        var service = agent.Services.GetRequiredService<AgentService>();
        var counters = service.Counters;
        await WaitUntil(() => counters.SourceBlocked || service.Completion.IsCompleted, TimeSpan.FromMinutes(2));
        Assert.True(counters.SourceBlocked, "the source should wait for buffer space while Kafka is down");
        long readWhenBlocked = counters.EventsRead;
        long bufferedWhenBlocked = counters.BufferedBytes;
        Assert.Equal(0, counters.Delivered);
        Assert.True(bufferedWhenBlocked >= bufferKiB * 1024L / 2, $"only {bufferedWhenBlocked} bytes buffered when blocked");
        Assert.True(bufferedWhenBlocked <= bufferKiB * 1024L, $"{bufferedWhenBlocked} bytes buffered, above the bound");
        // Still blocked a while later: nothing more read, nothing dropped, nothing failed.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(counters.SourceBlocked);
        Assert.Equal(readWhenBlocked, counters.EventsRead);
        Assert.Equal(0, counters.DeliveryErrors);
        Assert.False(service.Completion.IsCompleted);

        kafka.SetAllBrokersUp();
        await service.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.False(counters.SourceBlocked);
        Assert.True(counters.EventsRead > readWhenBlocked, "the source was blocked mid-stream");
        Assert.Equal(counters.EventsRead, counters.EventsSent);
        Assert.True(counters.BufferFullWaits > 0);
        Assert.True(counters.BufferFullWaitTime > TimeSpan.Zero);
        Assert.Equal(0, counters.DeliveryErrors);
        await agent.StopAsync();
        Assert.Equal(counters.RecordsProduced, counters.Delivered);
        Assert.True(counters.BufferedBytesPeak <= bufferKiB * 1024L, $"peak {counters.BufferedBytesPeak} bytes above the bound");

        using var worker = h.Worker();
        await worker.StartAsync();
        var workerCounters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2),
            () => workerCounters.SessionsEnded == 1 && AgentPoints(h).Count == workerCounters.AgentHealthRecords && workerCounters.PendingPoints == 0);
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(counters.EventsSent, workerCounters.EventsIn);

        // The delay is visible in pipeline_health too (the final agent health record).
        var last = AgentPoints(h)[^1];
        Assert.Equal(counters.BufferFullWaits, last["buffer_full_waits"]);
        Assert.Equal(counters.BufferFullWaitTime.Ticks * 100, last["buffer_full_wait_ns"]);
        Assert.Equal(counters.BufferedBytesPeak, last["buffered_bytes_peak"]);
        output.WriteLine($"blocked after {readWhenBlocked} of {counters.EventsRead} events with {bufferedWhenBlocked} bytes buffered (bound {bufferKiB * 1024}); " +
            $"{counters.BufferFullWaits} records waited for buffer space, {counters.BufferFullWaitTime.TotalSeconds:F1} s in all; peak {counters.BufferedBytesPeak} bytes; " +
            $"{counters.Delivered} records delivered, 0 errors");
    }

    /// <summary>The agent's pipeline_health points for <see cref="Host"/>, oldest first, as field → value.</summary>
    private static List<Dictionary<string, long>> AgentPoints(PipelineHarness h)
    {
        using var doc = JsonDocument.Parse(h.Query($"SELECT * FROM pipeline_health WHERE component = 'agent' AND host = '{Host}'"));
        var result = doc.RootElement.GetProperty("results")[0];
        var points = new List<Dictionary<string, long>>();
        if (!result.TryGetProperty("series", out var series))
            return points;
        var columns = series[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        foreach (var row in series[0].GetProperty("values").EnumerateArray())
        {
            var point = new Dictionary<string, long>();
            int i = 0;
            foreach (var value in row.EnumerateArray())
            {
                if (value.ValueKind == JsonValueKind.Number)
                    point[columns[i]] = value.GetInt64();
                i++;
            }
            points.Add(point);
        }
        return points;
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(100);
        Assert.True(condition(), "condition not reached within " + limit);
    }
}
