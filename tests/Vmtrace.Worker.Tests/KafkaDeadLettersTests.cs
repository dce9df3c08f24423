using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;

namespace Vmtrace.Worker.Tests;

/// <summary>The dead-letter topic path against librdkafka's mock cluster: bounded in memory, overflow counted and logged.</summary>
public class KafkaDeadLettersTests
{
    private static readonly TimeSpan s_slotWait = TimeSpan.FromSeconds(30);

    private static IProducer<string, byte[]> Producer(MockKafkaCluster cluster) =>
        new ProducerBuilder<string, byte[]>(new KafkaOptions { BootstrapServers = cluster.BootstrapServers }.Apply(new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            MessageTimeoutMs = 600_000, // undelivered letters stay in flight for the whole test
        })).SetErrorHandler((_, _) => { }).SetLogHandler((_, _) => { }).Build();

    private static ConsumeResult<string?, byte[]> Record(long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset("vmtrace.events", 0, offset),
        Message = new Message<string?, byte[]> { Key = "host-a", Value = [1, 2, (byte)offset] },
    };

    [Fact]
    public void MoreLettersThanTheBound_AllDeliveredAsSlotsFreeUp_NoneDropped()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("vmtrace.deadletter", 1);
        using var producer = Producer(cluster);
        var counters = new WorkerCounters();
        var letters = new KafkaDeadLetters(producer, "vmtrace.deadletter", bound: 2, s_slotWait, counters, new ListLogger(), TimeProvider.System);

        for (int i = 0; i < 6; i++)
            letters.Send(Record(i), RecordOutcome.Dead("empty record value"));
        letters.Flush();

        Assert.Equal((6L, 0L, 0L, 0), (counters.DeadLettered, counters.DeadLettersDropped, counters.DeadLettersUndelivered, letters.InFlight));
        using var consumer = new ConsumerBuilder<string, byte[]>(new KafkaOptions { BootstrapServers = cluster.BootstrapServers }.Apply(new ConsumerConfig
        {
            GroupId = "check",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        })).Build();
        consumer.Assign(new TopicPartitionOffset("vmtrace.deadletter", 0, Offset.Beginning));
        var got = new List<ConsumeResult<string, byte[]>>();
        for (int attempt = 0; attempt < 300 && got.Count < 6; attempt++)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } cr)
                got.Add(cr);
        }
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (byte)i), got.Select(r => r.Message.Value[2]));
        Assert.All(got, r => Assert.Equal("empty record value", Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(KafkaHeaders.DeadLetterReason))));
        Assert.Equal("vmtrace.events/0@4", Encoding.UTF8.GetString(got[4].Message.Headers.GetLastBytes(KafkaHeaders.DeadLetterOrigin)));
    }

    [Fact]
    public async Task BrokersDown_BoundReached_NextLetterWaitsTheSlotWaitOfFakeTimeThenIsDroppedCountedAndLogged()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("vmtrace.deadletter", 1);
        cluster.SetAllBrokersDown();
        using var producer = Producer(cluster);
        var counters = new WorkerCounters();
        var log = new ListLogger();
        var time = new FakeTimeProvider();
        var letters = new KafkaDeadLetters(producer, "vmtrace.deadletter", bound: 2, s_slotWait, counters, log, time);
        letters.Send(Record(0), RecordOutcome.Dead("damaged event batch"));
        letters.Send(Record(1), RecordOutcome.Dead("damaged event batch"));
        Assert.Equal(2, letters.InFlight);

        var third = Task.Run(() => letters.Send(Record(2), RecordOutcome.Dead("damaged event batch")));
        // The wait's timer starts when Send starts waiting, never before the test's first step: however the threads
        // interleave, the letter cannot be dropped before 30 s of fake time.
        var advanced = TimeSpan.Zero;
        while (!third.IsCompleted && advanced < TimeSpan.FromMinutes(10))
        {
            Assert.Equal(0, counters.DeadLettersDropped);
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            await Task.WhenAny(third, Task.Delay(20));
        }
        await third;

        Assert.True(advanced >= s_slotWait, $"dropped after {advanced}");
        Assert.Equal((3L, 1L, 2), (counters.DeadLettered, counters.DeadLettersDropped, letters.InFlight));
        Assert.Contains(log.Written, l => l.Text == "Dead letter of vmtrace.events/0@2 dropped, the record stays in the events topic: 2 dead letters still undelivered after 30 s");
    }
}
