using Microsoft.Extensions.Time.Testing;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary><c>vmtrace top --replay --speed N</c> refreshes on the injected clock: no window is shown before its time.</summary>
public class TopReplayPacingTests
{
    private static string Dir => Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");

    [Fact]
    public async Task PacedReplay_ShowsEachWindowOnlyOnceTheClockReachedIt()
    {
        string trace = Path.Combine(Dir, "trace.dat.xz");
        var inventory = VmMapJson.Parse(File.ReadAllText(Path.Combine(Dir, "vmmap.json")));
        const long Window = 1_000_000_000;
        var unpaced = new List<WindowMetrics>();
        TopFeed.Replay([trace], inventory, Window, 0, TimeProvider.System, CancellationToken.None, unpaced.Add);
        Assert.True(unpaced.Count >= 3);

        var clock = new FakeTimeProvider();
        var start = clock.GetTimestamp();
        var shown = new List<(long EndNs, TimeSpan At)>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = Task.Run(() => TopFeed.Replay([trace], inventory, Window, 2, clock, cts.Token, w =>
        {
            lock (shown)
                shown.Add((w.EndNs, clock.GetElapsedTime(start)));
        }), cts.Token);
        // Speed 2: the trace's span in half the time; the clock moves 50 ms at a time, the replay catching up in between.
        var span = TimeSpan.FromTicks((unpaced[^1].EndNs - unpaced[0].StartNs) / 100 / 2) + TimeSpan.FromSeconds(1);
        for (var advanced = TimeSpan.Zero; advanced < span && !run.IsCompleted; advanced += TimeSpan.FromMilliseconds(50))
        {
            await Task.Delay(10);
            clock.Advance(TimeSpan.FromMilliseconds(50));
        }
        while (!run.IsCompleted)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(run, Task.Delay(10));
        }
        await run;
        Assert.Equal(unpaced.Select(w => w.EndNs), shown.Select(s => s.EndNs));
        // Window j closes on the first event at or after its end, due (end_j − first event) / 2 after the start; the
        // first event is before the first window's end, so (end_j − end_0) / 2 is a lower bound (1 ms: the pacing's slack).
        long firstEnd = shown[0].EndNs;
        foreach (var (endNs, at) in shown.Skip(1).SkipLast(1))
            Assert.True(at >= TimeSpan.FromTicks((endNs - firstEnd) / 100 / 2) - TimeSpan.FromMilliseconds(1), $"window ending {endNs} shown at {at}");
        Assert.True(shown[^2].At >= TimeSpan.FromSeconds(1), $"the replay was not paced: last full window shown at {shown[^2].At}");
    }
}
