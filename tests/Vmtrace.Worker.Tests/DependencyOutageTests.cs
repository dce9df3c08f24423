using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.Worker.Tests;

/// <summary>The worker's outages (fake clock): retry delays, a stalled write, the health backlog.</summary>
public class DependencyOutageTests
{
    [Fact]
    public void RetryDelay_GrowsExponentiallyWithJitterUpToTheCap()
    {
        var first = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(30);
        for (int failures = 1; failures <= 10; failures++)
        {
            double nominal = Math.Min(Math.Pow(2, failures - 1), 30);
            for (int i = 0; i < 200; i++)
                Assert.InRange(WorkerOutages.RetryDelay(failures, first, max).TotalSeconds, nominal / 2, nominal);
        }
        var delays = Enumerable.Range(0, 200).Select(_ => WorkerOutages.RetryDelay(8, first, max)).Distinct().Count();
        Assert.True(delays > 100, "the delays should be jittered");
    }
    [Fact]
    public async Task StalledWrite_HealthSampledAtTheStallThenEverySecondUntilTheWriteEnds()
    {
        var time = new FakeTimeProvider();
        var outages = new WorkerOutages(time, new WorkerOptions { WriteStallTimeout = TimeSpan.FromSeconds(10), OutageSummaryInterval = TimeSpan.FromMinutes(1) }, new ListLogger());
        var write = new TaskCompletionSource();
        var start = time.GetUtcNow();
        var samples = new List<(TimeSpan At, bool Down)>();
        var waiter = Task.Run(() => outages.WaitForWrite(write.Task, () => "3 point(s) waiting", () =>
        {
            samples.Add((time.GetUtcNow() - start, outages.Influx.Outage.IsDown));
            if (samples.Count == 5)
                write.SetResult();
        }));
        // InfluxDB never answers: the fake clock runs (100 ms steps) until the fifth sample ends the write.
        while (!waiter.IsCompleted && time.GetUtcNow() - start < TimeSpan.FromMinutes(1))
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
        Assert.Same(waiter, await Task.WhenAny(waiter, Task.Delay(TimeSpan.FromSeconds(10))));
        await waiter;

        Assert.Equal(1, outages.WriteStalls);
        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.True(s.Down, "a sample taken during the stall sees InfluxDB up"));
        Assert.True(samples[0].At >= TimeSpan.FromSeconds(10), $"first sample at {samples[0].At}, before the stall timeout");
        Assert.All(samples.Zip(samples.Skip(1)), p => Assert.True(p.Second.At - p.First.At >= TimeSpan.FromSeconds(1), $"samples at {p.First.At} and {p.Second.At}"));
    }

    [Fact]
    public void HealthBacklog_KeepsTheNewestInOrderAndCountsWhatItDropped()
    {
        var backlog = new HealthBacklog(capacity: 3);
        foreach (var point in new[] { "h 1", "h 2", "h 3", "h 4", "h 5" })
            backlog.Add(point);
        Assert.Equal(2, backlog.Dropped);
        var pending = new List<string> { "p" };
        backlog.MoveTo(pending);
        Assert.Equal(["p", "h 3", "h 4", "h 5"], pending);
        Assert.Equal(0, backlog.Count);
    }
}
