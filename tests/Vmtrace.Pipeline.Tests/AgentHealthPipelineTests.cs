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
/// connection).
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
}
