using System.Globalization;
using Vmtrace.Analysis;

namespace Vmtrace.Worker.Tests;

/// <summary>The worker's health point on a fake clock: every HealthInterval, with the consumer lag it measured.</summary>
public class HealthReporterTests
{
    [Fact]
    public void ReportIfDue_EveryHealthInterval_ConsumerLagMeasuredAndExposed_PointAtTheSamplingTime()
    {
        var w = new WorkerParts(new WorkerOptions { HealthInterval = TimeSpan.FromSeconds(10) });
        w.Assign(0).NextOffset = 4;
        w.Assign(1).NextOffset = 7;
        w.Assign(2); // no watermark fetched yet: not counted
        w.Consumer.HighWatermarks[0] = 10;
        w.Consumer.HighWatermarks[1] = 7;
        w.Counters.DeadLettersDropped = 3;

        w.Time.Advance(TimeSpan.FromSeconds(9));
        w.Health.ReportIfDue();
        Assert.Empty(w.Points.Pending);

        w.Time.Advance(TimeSpan.FromSeconds(1));
        w.Health.ReportIfDue();
        w.Health.ReportIfDue(); // the interval restarted
        string point = Assert.Single(w.Points.Pending);

        Assert.Equal(6, w.Counters.ConsumerLag); // (10 - 4) + (7 - 7)
        Assert.Contains(",consumer_lag=6i,", point, StringComparison.Ordinal);
        Assert.Contains(",dead_letters_dropped=3i,", point, StringComparison.Ordinal);
        long expectedNs = w.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        Assert.EndsWith(" " + expectedNs.ToString(CultureInfo.InvariantCulture), point, StringComparison.Ordinal);
        Assert.Contains(w.Log.Written, l => l.Text.StartsWith("health: records=0 ", StringComparison.Ordinal) && l.Text.Contains(" lag=6 ", StringComparison.Ordinal));
    }

    [Fact]
    public void HealthPoint_FieldsAreTheMetricTablesWorkerHealthGroup_InOrder()
    {
        var w = new WorkerParts(new WorkerOptions { HealthInterval = TimeSpan.FromSeconds(1) });
        w.Time.Advance(TimeSpan.FromSeconds(1));
        w.Health.ReportIfDue();
        string point = Assert.Single(w.Points.Pending);

        // "pipeline_health,component=worker,instance=test f1=..,f2=.. TIME": the field set between the two spaces.
        string fieldSet = point.Split(' ')[1];
        var written = fieldSet.Split(',').Select(f => f[..f.IndexOf('=', StringComparison.Ordinal)]).ToArray();
        var table = MetricSchema.LineProtocol.WorkerHealth.Fields.Select(f => f.Name).ToArray();
        Assert.Equal(table, written);
    }
}
