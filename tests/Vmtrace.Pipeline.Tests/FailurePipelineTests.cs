using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Vmtrace.Kafka;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>InfluxDB unreachable mid-stream, and a garbage record in the topic: nothing lost, nothing silent.</summary>
public sealed class FailurePipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    private static readonly string[] Inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
    private const string Host = "tcg-3vms";

    /// <summary>
    /// A quick variant of <see cref="InfluxOutagePipelineTests"/> (influxd itself killed for 30 s): a proxy in front of
    /// influxd refuses connections for 5 s (connection refused → client retries → circuit open → worker pauses its partitions and retries).
    /// </summary>
    [InfluxFact]
    public async Task InfluxUnreachableForSeconds_WorkerPausesAndResumes_InfluxHoldsExactlyTheAnalyzePoints()
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        using var proxy = new TcpProxy(new Uri(influx.Url));
        var settings = h.Settings();
        settings["Influx:Url"] = proxy.Url;
        settings["Worker:MaxPendingLines"] = "50";
        proxy.Stop();
        await h.ReplayAsync(Inputs, Host);

        using var worker = PipelineHarnessHosts.Worker(settings);
        await worker.StartAsync();
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        await WaitUntil(() => counters.WriteFailures > 0, TimeSpan.FromMinutes(1));
        long recordsAtPause = counters.RecordsIn;
        await Task.Delay(TimeSpan.FromSeconds(5));
        // Paused: no record was taken while InfluxDB was away, so memory stays bounded by MaxPendingLines.
        Assert.Equal(recordsAtPause, counters.RecordsIn);
        Assert.Empty(h.Points());
        proxy.Start();

        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.True(counters.WriteFailures > 0);
    }

    [InfluxFact]
    public async Task GarbageRecordInTopic_GoesToDeadLetterWithReason_NothingElseLost()
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        using (var producer = new ProducerBuilder<string, byte[]>(h.Kafka.Apply(new ProducerConfig())).Build())
        {
            await producer.ProduceAsync(h.Kafka.EventsTopic, new Message<string, byte[]> { Key = Host, Value = "this is not a vmtrace record"u8.ToArray() });
        }
        using var worker = h.Worker();
        await worker.StartAsync();
        await h.ReplayAsync(Inputs, Host);
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(1, counters.DeadLettered);

        using var consumer = new ConsumerBuilder<string, byte[]>(h.Kafka.Apply(new ConsumerConfig { GroupId = "dlq-reader", AutoOffsetReset = AutoOffsetReset.Earliest })).Build();
        consumer.Subscribe(h.Kafka.DeadLetterTopic);
        ConsumeResult<string, byte[]>? dead = null;
        var until = DateTime.UtcNow.AddSeconds(30);
        while (dead is null && DateTime.UtcNow < until)
            dead = consumer.Consume(TimeSpan.FromMilliseconds(200));
        Assert.NotNull(dead);
        Assert.Equal("this is not a vmtrace record", System.Text.Encoding.UTF8.GetString(dead.Message.Value));
        string reason = System.Text.Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(KafkaHeaders.DeadLetterReason));
        Assert.Contains("not a vmtrace record", reason, StringComparison.Ordinal);
        Assert.StartsWith(h.Kafka.EventsTopic + "/", System.Text.Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(KafkaHeaders.DeadLetterOrigin)), StringComparison.Ordinal);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(100);
        Assert.True(condition(), "condition not reached within " + limit);
    }
}
