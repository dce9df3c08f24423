using Microsoft.Extensions.DependencyInjection;
using Vmtrace.InfluxDb;
using Vmtrace.InfluxDb.Bootstrap;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>Points older than the raw retention policy are not stored by InfluxDB: the worker counts them as dropped_by_retention, not as written.</summary>
public sealed class RetentionPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    /// <summary>
    /// The sample was recorded on 2026-11-23 (vmmap.json wall_start_realtime 1795385081); replayed at its recorded
    /// times into a database made by <c>vmtrace influx init</c> (raw = 7 days), every vmtrace point is older than the
    /// policy keeps once the test runs more than 7 days later. Each must show as dropped_by_retention in the worker's
    /// counters and its pipeline_health point, none as written, none as a write failure.
    /// </summary>
    [InfluxFact]
    public async Task Replay_OlderThanRawRetention_CountedAsDroppedByRetentionNotWritten()
    {
        string[] inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
        const string host = "tcg-3vms";
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);
        long newest = expected.Max(p => long.Parse(p[(p.LastIndexOf('|') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(newest / 1_000_000) > TimeSpan.FromDays(7.1),
            "the sample is expected to be older than the 7-day raw policy");
        using var h = new PipelineHarness(influx);
        using (var client = new InfluxClient(new InfluxOptions { Url = new Uri(influx.Url), Database = h.Database }))
            await new InfluxBootstrap(client).RunAsync(new BootstrapOptions { Database = h.Database });
        var settings = h.Settings("retention");
        settings["Influx:RetentionPolicy"] = BootstrapOptions.RawPolicy;
        using var worker = PipelineHarnessHosts.Worker(settings);
        await worker.StartAsync();
        await h.ReplayAsync(inputs, host);
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var until = DateTime.UtcNow.AddMinutes(2);
        while ((counters.DroppedByRetention < expected.Count || counters.SessionsEnded < 1) && DateTime.UtcNow < until)
            await Task.Delay(200);
        // Two health intervals (2 s) for a pipeline_health point holding the final count.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        await worker.StopAsync();

        Assert.Equal(expected.Count, counters.DroppedByRetention);
        Assert.Equal(0, counters.WriteFailures);
        Assert.Equal(0, counters.PointsRejected);
        Assert.Empty(h.Points());
        var health = h.Query("SELECT last(dropped_by_retention) FROM pipeline_health WHERE component = 'worker'");
        using var doc = System.Text.Json.JsonDocument.Parse(health);
        var series = doc.RootElement.GetProperty("results")[0].GetProperty("series")[0];
        Assert.Equal(expected.Count, series.GetProperty("values")[0][1].GetInt64());
    }
}
