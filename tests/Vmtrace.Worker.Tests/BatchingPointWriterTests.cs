namespace Vmtrace.Worker.Tests;

/// <summary>The worker's batching writer on a fake clock: when a batch is due, and what an InfluxDB outage does.</summary>
public class BatchingPointWriterTests
{
    [Fact]
    public void IsDue_AfterFlushIntervalSinceTheLastWrite_OrAtMaxPendingLines()
    {
        var w = new WorkerParts(new WorkerOptions { FlushInterval = TimeSpan.FromMilliseconds(200), MaxPendingLines = 3 });
        Assert.False(w.Points.IsDue); // nothing pending, however long ago the last write was
        w.Time.Advance(TimeSpan.FromSeconds(5));
        w.Points.Flush(CancellationToken.None, singleAttempt: false); // nothing to write: the interval does not restart
        w.Points.Pending.Add("m v=1i 1");
        Assert.True(w.Points.IsDue);
        w.Points.Flush(CancellationToken.None, singleAttempt: false);

        w.Points.Pending.Add("m v=2i 2");
        w.Time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(w.Points.IsDue);
        w.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(w.Points.IsDue);
        w.Points.Flush(CancellationToken.None, singleAttempt: false);

        w.Points.Pending.AddRange(["m v=3i 3", "m v=4i 4"]);
        Assert.False(w.Points.IsDue);
        w.Points.Pending.Add("m v=5i 5"); // MaxPendingLines: due at once
        Assert.True(w.Points.IsDue);
        Assert.Equal(2, w.Writer.Writes.Count);
    }

    [Fact]
    public void InfluxRefusesTwice_ConsumptionPausedRetriedWithBackoffOnTheFakeClock_ThenResumed()
    {
        var options = new WorkerOptions
        {
            OutageRetryDelay = TimeSpan.FromSeconds(1),
            OutageMaxRetryDelay = TimeSpan.FromSeconds(30),
            HealthInterval = TimeSpan.FromHours(1),
        };
        var w = new WorkerParts(options);
        w.Writer.FailNext = 2;
        w.Points.Pending.AddRange(["m v=1i 1", "m v=2i 2"]);
        var started = w.Time.GetUtcNow();

        w.Points.Flush(CancellationToken.None, singleAttempt: false);

        Assert.Equal(3, w.Writer.Attempts);
        Assert.Equal(["m v=1i 1", "m v=2i 2"], Assert.Single(w.Writer.Writes));
        Assert.Empty(w.Points.Pending);
        Assert.Equal(2, w.Counters.WriteFailures);
        Assert.Equal((1, 1, false, false), (w.Consumer.Pauses, w.Consumer.Resumes, w.Consumer.Paused, w.Counters.ConsumptionPaused));
        // Back-off: attempt 2 after 0.5..1 s, attempt 3 after 1..2 s (jitter in the upper half); the wait polls the
        // consumer every 100 ms, so it ends at most one poll late.
        var waited = w.Time.GetUtcNow() - started;
        Assert.InRange(waited, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3.2));
        Assert.False(w.Outages.Influx.Outage.IsDown);
        Assert.Equal(1, w.Outages.Influx.Outage.Outages);
    }

    [Fact]
    public void HealthSampledDuringTheOutage_WrittenAfterTheWriteThatEndsIt()
    {
        var w = new WorkerParts(new WorkerOptions
        {
            OutageRetryDelay = TimeSpan.FromSeconds(10),
            OutageMaxRetryDelay = TimeSpan.FromSeconds(10),
            HealthInterval = TimeSpan.FromSeconds(2),
        });
        w.Writer.FailNext = 1;
        w.Points.Pending.Add("m v=1i 1");

        w.Points.Flush(CancellationToken.None, singleAttempt: false);

        // 5..10 s of back-off at one health sample per 2 s: 2 to 5 samples, none lost, written after the window point.
        Assert.Equal(["m v=1i 1"], Assert.Single(w.Writer.Writes));
        Assert.InRange(w.Points.Pending.Count, 2, 5);
        Assert.All(w.Points.Pending, p => Assert.StartsWith("pipeline_health,component=worker,instance=test ", p, StringComparison.Ordinal));
        Assert.Contains("influx_down=1i", w.Points.Pending[0], StringComparison.Ordinal);
        Assert.Equal(0, w.Counters.HealthBacklogDropped);
    }

    [Fact]
    public void SingleAttempt_Throws_AndLeavesThePointsPending()
    {
        var w = new WorkerParts();
        w.Writer.FailNext = 1;
        w.Points.Pending.Add("m v=1i 1");

        Assert.Throws<Vmtrace.InfluxDb.InfluxWriteException>(() => w.Points.Flush(CancellationToken.None, singleAttempt: true));

        Assert.Equal(["m v=1i 1"], w.Points.Pending);
        Assert.Equal(0, w.Consumer.Pauses);
    }
}
