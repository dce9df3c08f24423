using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vmtrace.Agent;
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
        // The agent replays at a pace that makes the stream last ~25 s, so every kill lands mid-stream.
        var times = expected.Select(p => long.Parse(p[(p.LastIndexOf('|') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        double traceSeconds = (times.Max() - times.Min()) / 1e9 + 1;
        using var agent = h.Agent(inputs, host);
        agent.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Speed = Math.Max(0.05, traceSeconds / 60);
        await agent.StartAsync();

        var kills = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            int before = h.Points().Count;
            using var worker = new WorkerProcess(settings);
            // Killed only once this process has written points of its own, then at a random moment.
            var until = DateTime.UtcNow.AddSeconds(60);
            while (h.Points().Count <= before && h.Points().Count < expected.Count && DateTime.UtcNow < until && !worker.HasExited)
                await Task.Delay(50);
            int delayMs = random.Next(0, 1500);
            await Task.Delay(delayMs);
            Assert.False(worker.HasExited, $"worker exited on its own: {worker.Output}");
            worker.Kill();
            kills.Add($"+{delayMs} ms after progress ({before} → {h.Points().Count} points)");
        }
        Console.WriteLine($"kill test seed {seed}: killed {string.Join(", ", kills)} of {expected.Count}");
        Assert.True(h.Points().Count < expected.Count, "the kills should all land before the end of the stream");
        using (var last = new WorkerProcess(settings))
        {
            await agent.Services.GetRequiredService<AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(2));
            var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2));
            Assert.True(expected.SetEquals(actual),
                $"seed {seed}, kills {string.Join(", ", kills)}: {PipelineHarness.Diff(expected, actual)}\n{last.Output}");
        }
        await agent.StopAsync();
    }
}
