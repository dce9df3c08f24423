using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vmtrace.Agent;
using Vmtrace.TestSupport;
using Vmtrace.Worker;
using Xunit.Abstractions;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// The outage as written: the real influxd killed mid-stream, down for 30 s, restarted on the same data
/// directory and port. The worker pauses (reads nothing, so its memory stays bounded while the agent keeps
/// producing), resumes by itself, and InfluxDB ends up holding exactly the uninterrupted run's points.
/// </summary>
public sealed class InfluxOutagePipelineTests(ITestOutputHelper output)
{
    private static readonly string[] Inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
    private const string Host = "tcg-3vms";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private const int MaxPendingLines = 50;

    [InfluxFact]
    public async Task InfluxdKilledFor30sMidStream_WorkerPausesWithBoundedBufferAndResumes_ContentsEqualUninterruptedRun()
    {
        // A server of its own: this test kills it.
        using var server = new InfluxServer();
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(server);
        var settings = h.Settings("outage");
        settings["Worker:MaxPendingLines"] = $"{MaxPendingLines}";

        // The agent replays over ~20 s, so it keeps producing throughout the outage.
        var times = expected.Select(p => long.Parse(p[(p.LastIndexOf('|') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        double traceSeconds = (times.Max() - times.Min()) / 1e9 + 1;
        using var agent = h.Agent(Inputs, Host);
        agent.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Speed = traceSeconds / 20;
        var agentCounters = agent.Services.GetRequiredService<AgentService>().Counters;
        using var worker = PipelineHarnessHosts.Worker(settings);
        await worker.StartAsync();
        await agent.StartAsync();
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;

        await WaitUntil(() => counters.PointsWritten > 0, TimeSpan.FromMinutes(2));
        server.Kill();
        var down = Stopwatch.StartNew();
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true), workingSetBefore = Environment.WorkingSet;

        await WaitUntil(() => counters.ConsumptionPaused, TimeSpan.FromMinutes(1));
        long recordsAtPause = counters.RecordsIn, pendingAtPause = counters.PendingPoints, producedAtPause = agentCounters.RecordsProduced;
        Assert.Equal(0, counters.SessionsEnded); // mid-stream: the session's end was not processed yet
        long pendingMax = pendingAtPause, memoryMax = 0, workingSetMax = 0;
        int samples = 0;
        while (down.Elapsed < Outage)
        {
            // While paused the worker takes no record, so its buffer (pending points) does not grow.
            Assert.True(counters.ConsumptionPaused, "the worker resumed while influxd was down");
            Assert.Equal(recordsAtPause, counters.RecordsIn);
            pendingMax = Math.Max(pendingMax, counters.PendingPoints);
            if (++samples % 10 == 0)
            {
                memoryMax = Math.Max(memoryMax, GC.GetTotalMemory(forceFullCollection: true));
                workingSetMax = Math.Max(workingSetMax, Environment.WorkingSet);
            }
            await Task.Delay(200);
        }
        Assert.Equal(pendingAtPause, pendingMax);
        long producedDuringOutage = agentCounters.RecordsProduced - producedAtPause;
        Assert.True(producedDuringOutage > 0, "the agent should keep producing while InfluxDB is down (records wait in Kafka, not in the worker)");

        server.Restart();
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(3), () => counters.SessionsEnded == 1);
        Assert.False(counters.ConsumptionPaused);
        await agent.StopAsync();
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.True(counters.WriteFailures > 0);
        output.WriteLine($"influxd down {down.Elapsed.TotalSeconds:F1} s; worker paused after {recordsAtPause} records with {pendingAtPause} points pending " +
            $"(bound {MaxPendingLines} + one record's points), max {pendingMax} during the outage; {producedDuringOutage} records produced meanwhile and left in Kafka; " +
            $"{counters.WriteFailures} failed writes; test process (agent + worker) managed heap {memoryBefore / 1024} KiB at the kill, max {memoryMax / 1024} KiB " +
            $"during the outage; working set {workingSetBefore / 1048576} MiB at the kill, max {workingSetMax / 1048576} MiB");
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(100);
        Assert.True(condition(), "condition not reached within " + limit);
    }
}
