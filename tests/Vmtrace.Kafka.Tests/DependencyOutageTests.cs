using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.Kafka.Tests;

/// <summary>An outage, however many errors it brings, is one line down, a summary per interval, one line back (fake clock).</summary>
public class DependencyOutageTests
{
    private sealed class Lines : ILogger
    {
        public List<(LogLevel Level, string Text)> Written { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Written.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void TenErrorsASecondForTenMinutes_OneLineDownTenSummariesOneLineBack()
    {
        var time = new FakeTimeProvider();
        var lines = new Lines();
        var log = new OutageLog("Kafka", new DependencyOutage(time, TimeSpan.FromMinutes(1)), lines);
        int held = 0;
        for (int i = 0; i <= 6000; i++) // 10 errors a second for 600 s, as librdkafka reports failed connection attempts
        {
            if (i > 0)
                time.Advance(TimeSpan.FromMilliseconds(100));
            log.Failed("Connect to ipv4#127.0.0.1:9092 failed: Connection refused", () => $"{held} records buffered");
            held++;
        }
        Assert.True(log.Outage.IsDown);
        Assert.Equal(6001, log.Outage.Failures);
        log.Succeeded();
        log.Succeeded(); // a second success says nothing more

        Assert.Equal(1 + 10 + 1, lines.Written.Count);
        Assert.Equal("Kafka unreachable: Connect to ipv4#127.0.0.1:9092 failed: Connection refused", lines.Written[0].Text);
        Assert.Equal(LogLevel.Warning, lines.Written[0].Level);
        // Each summary says how long, how many failures, and what is held back at that moment.
        Assert.StartsWith("Kafka still unreachable after 00:01:00: 601 failure(s), 600 records buffered", lines.Written[1].Text, StringComparison.Ordinal);
        Assert.StartsWith("Kafka still unreachable after 00:10:00: 6001 failure(s)", lines.Written[10].Text, StringComparison.Ordinal);
        Assert.Equal("Kafka reachable again after 00:10:00 (6001 failure(s))", lines.Written[11].Text);
        Assert.Equal(1, log.Outage.Outages);
    }

    [Fact]
    public void SummaryDueWithoutNewErrors_TickWritesIt()
    {
        var time = new FakeTimeProvider();
        var lines = new Lines();
        var log = new OutageLog("InfluxDB", new DependencyOutage(time, TimeSpan.FromSeconds(30)), lines);
        log.Tick(() => "nothing");
        Assert.Empty(lines.Written); // up: no summary
        log.Failed("no answer to a write within 10 s", () => "5 point(s) waiting");
        time.Advance(TimeSpan.FromSeconds(29));
        log.Tick(() => "5 point(s) waiting");
        Assert.Single(lines.Written);
        time.Advance(TimeSpan.FromSeconds(1));
        log.Tick(() => "5 point(s) waiting");
        Assert.Equal(2, lines.Written.Count);
        Assert.Equal("InfluxDB still unreachable after 00:00:30: 1 failure(s), 5 point(s) waiting; last error: no answer to a write within 10 s", lines.Written[1].Text);
    }
}
