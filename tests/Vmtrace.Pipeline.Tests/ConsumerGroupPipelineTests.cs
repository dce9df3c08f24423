using Microsoft.Extensions.DependencyInjection;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>Consumer groups reading the same events topic keep separate checkpoints: each computes the whole result on its own.</summary>
public sealed class ConsumerGroupPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    /// <summary>
    /// Group A consumes the whole replay and checkpoints every partition at its end; then a worker of group B starts
    /// (its own InfluxDB database). B must not resume from A's checkpoints: it reads the topic from the beginning and
    /// writes every point <c>vmtrace analyze</c> gives, as A did.
    /// </summary>
    [InfluxFact]
    public async Task SecondGroup_AfterFirstGroupCheckpointedEverything_ComputesTheFullResultItself()
    {
        string[] inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
        const string host = "tcg-3vms";
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);
        using var h = new PipelineHarness(influx);

        var groupA = h.Settings("group-a");
        groupA["Worker:GroupId"] = h.GroupId + "_a";
        using (var workerA = PipelineHarnessHosts.Worker(groupA))
        {
            await workerA.StartAsync();
            await h.ReplayAsync(inputs, host);
            var counters = workerA.Services.GetRequiredService<WorkerService>().Counters;
            var actualA = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
            Assert.True(expected.SetEquals(actualA), "group A: " + PipelineHarness.Diff(expected, actualA));
            await workerA.StopAsync(); // a graceful stop checkpoints every partition at the end of the stream
            Assert.True(counters.Checkpoints > 0, "group A wrote no checkpoint");
        }

        string databaseB = h.Database + "_b";
        h.Query("CREATE DATABASE " + databaseB);
        var groupB = h.Settings("group-b");
        groupB["Worker:GroupId"] = h.GroupId + "_b";
        groupB["Influx:Database"] = databaseB;
        using var workerB = PipelineHarnessHosts.Worker(groupB);
        await workerB.StartAsync();
        var countersB = workerB.Services.GetRequiredService<WorkerService>().Counters;
        var actualB = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => countersB.SessionsEnded == 1, databaseB);
        await workerB.StopAsync();

        Assert.True(expected.SetEquals(actualB), "group B: " + PipelineHarness.Diff(expected, actualB));
        Assert.Equal(0, countersB.RestoredPartitions);
        Assert.True(countersB.EventsIn > 0, "group B analysed no event");
    }
}
