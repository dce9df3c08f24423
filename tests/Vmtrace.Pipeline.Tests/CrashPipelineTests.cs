using Vmtrace.TestSupport;

namespace Vmtrace.Pipeline.Tests;

/// <summary>The worker as a separate <c>vmtrace worker</c> process, killed with SIGKILL at random moments and restarted: InfluxDB ends up exactly as after an uninterrupted run.</summary>
public sealed class CrashPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    [InfluxFact]
    public async Task WorkerProcess_KilledFiveTimesAtRandomMoments_InfluxHoldsExactlyTheAnalyzePoints()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        Console.WriteLine($"kill test seed {seed}");
        string[] inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
        const string host = "tcg-3vms";
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);

        using var h = new PipelineHarness(influx);
        var settings = h.Settings("crash");
        // A dead member must leave the group quickly so that its successor gets the partitions.
        settings["Kafka:Properties:session.timeout.ms"] = "3000";
        settings["Kafka:Properties:heartbeat.interval.ms"] = "500";
        settings["Worker:CheckpointInterval"] = "00:00:00.300";
        // Records in Kafka first, then the worker works through them while it is being killed.
        await h.ReplayAsync(inputs, host);

        var kills = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            using var worker = new WorkerProcess(settings);
            int delayMs = random.Next(1500, 6000);
            await Task.Delay(delayMs);
            Assert.False(worker.HasExited, $"worker exited on its own: {worker.Output}");
            worker.Kill();
            kills.Add($"{delayMs} ms ({h.Points().Count} points)");
        }
        Console.WriteLine($"kill test seed {seed}: killed after {string.Join(", ", kills)}");
        using (var last = new WorkerProcess(settings))
        {
            var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2));
            Assert.True(expected.SetEquals(actual),
                $"seed {seed}, kills after {string.Join(", ", kills)}: {PipelineHarness.Diff(expected, actual)}\n{last.Output}");
        }
    }
}
