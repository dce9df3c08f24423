namespace Vmtrace.Kafka.Tests;

/// <summary>The Kafka settings' own check, before any client is built.</summary>
public class KafkaOptionsTests
{
    [Fact]
    public void KafkaOptions_NoBootstrapServers_ProblemNamesTheSetting()
    {
        if (Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS") is { Length: > 0 })
            return; // the environment supplies one
        var problems = new KafkaOptions { EventsTopic = "bad topic" }.Problems().ToList();
        Assert.Contains(problems, p => p.Contains("Kafka:BootstrapServers", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Kafka:EventsTopic 'bad topic'", StringComparison.Ordinal));
    }
}
