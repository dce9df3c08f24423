using Microsoft.Extensions.DependencyInjection;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// <c>vmtrace agent</c> as a separate process, SIGKILLed mid-replay at random moments and started again on the same
/// input: InfluxDB ends up exactly as <c>vmtrace analyze</c> — no point of a killed session's partial window, nothing doubled.
/// </summary>
public sealed class AgentRestartPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    [InfluxFact]
    public async Task AgentProcess_KilledThreeTimesAtRandomMomentsAndRestarted_InfluxHoldsExactlyTheAnalyzePoints()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        Console.WriteLine($"agent kill test seed {seed}");
        string[] inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
        const string host = "tcg-3vms";
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);

        using var h = new PipelineHarness(influx);
        using var worker = h.Worker();
        await worker.StartAsync();
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;

        var settings = h.Settings();
        settings["Agent:HostId"] = host;
        settings["Agent:StopWhenDone"] = "true";
        // Paced so that one run lasts ~8 s: a kill 0.5–4 s after the first events lands mid-stream, in an open window.
        var times = expected.Select(p => long.Parse(p[(p.LastIndexOf('|') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        double traceSeconds = (times.Max() - times.Min()) / 1e9 + 1;
        settings["Agent:Speed"] = (traceSeconds / 8).ToString(System.Globalization.CultureInfo.InvariantCulture);

        bool ThisSessionArrived(int run) => run == 0 ? counters.EventsIn > 0 : counters.SessionsCutShort == run;
        var kills = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            using var agent = new WorkerProcess(settings, "agent", inputs);
            var until = DateTime.UtcNow.AddSeconds(60);
            // This agent's own session must have reached the worker before the clock of its kill starts: the killed
            // agent's last batches can still be arriving (consumer lag), and a kill timed from those would land before
            // this agent sent anything. The worker counts the previous session cut short on this one's first record.
            while (!ThisSessionArrived(i) && DateTime.UtcNow < until && !agent.HasExited)
                await Task.Delay(20);
            Assert.True(ThisSessionArrived(i), $"agent {i + 1}'s records never reached the worker: {agent.Output}");
            int delayMs = random.Next(500, 4000);
            await Task.Delay(delayMs);
            Assert.False(agent.HasExited, $"agent exited before its kill: {agent.Output}");
            agent.Kill();
            kills.Add($"+{delayMs} ms after its first events");
        }
        Console.WriteLine($"agent kill test seed {seed}: killed {string.Join(", ", kills)}");

        using (var last = new WorkerProcess(settings, "agent", inputs))
        {
            Assert.Equal(0, await last.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        }
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), $"seed {seed}, kills {string.Join(", ", kills)}: {PipelineHarness.Diff(expected, actual)}");
        Assert.Equal(1, counters.SessionsEnded);
        Assert.Equal(3, counters.SessionsCutShort);
    }
}
