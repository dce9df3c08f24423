using Confluent.Kafka;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// Reads and writes partition checkpoints in the state topic: partition P's checkpoint goes to state
/// partition P, key <c>&lt;events topic&gt;/P</c>, so the latest one is the partition's last record.
/// </summary>
internal sealed class CheckpointStore(KafkaOptions kafka, string groupId, IProducer<string, byte[]> producer)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>The latest checkpoint of events partition <paramref name="partition"/>, or null when there is none.</summary>
    public PartitionState? Load(int partition)
    {
        var config = kafka.Apply(new ConsumerConfig
        {
            GroupId = groupId + "-checkpoint-reader",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchMaxBytes = 128 * 1024 * 1024,
            MaxPartitionFetchBytes = 128 * 1024 * 1024,
        });
        using var consumer = new ConsumerBuilder<string?, byte[]>(config).Build();
        var tp = new TopicPartition(kafka.StateTopic, partition);
        var marks = consumer.QueryWatermarkOffsets(tp, s_timeout);
        if (marks.High.Value <= marks.Low.Value)
            return null;
        long last = marks.High.Value - 1;
        consumer.Assign(new TopicPartitionOffset(tp, last));
        var deadline = DateTime.UtcNow + s_timeout;
        while (DateTime.UtcNow < deadline)
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (cr is null)
                continue;
            if (cr.IsPartitionEOF)
                break;
            string expected = PartitionCheckpoint.Key(kafka.EventsTopic, partition);
            if (cr.Message.Key != expected)
                throw new InvalidOperationException($"{kafka.StateTopic}[{partition}]@{cr.Offset.Value}: key '{cr.Message.Key}' where '{expected}' was expected; the state topic must have at least as many partitions as {kafka.EventsTopic} and hold only worker checkpoints");
            if (cr.Offset.Value >= last)
                return PartitionCheckpoint.Decode(cr.Message.Value, partition);
        }
        throw new TimeoutException($"cannot read the checkpoint of partition {partition} at {kafka.StateTopic}[{partition}]@{last} within {s_timeout.TotalSeconds} s");
    }

    /// <summary>Writes the checkpoint and waits for the broker's acknowledgement; returns its size.</summary>
    public int Save(PartitionState state)
    {
        var value = PartitionCheckpoint.Encode(state);
        var message = new Message<string, byte[]> { Key = PartitionCheckpoint.Key(kafka.EventsTopic, state.Partition), Value = value };
        producer.ProduceAsync(new TopicPartition(kafka.StateTopic, state.Partition), message).GetAwaiter().GetResult();
        return value.Length;
    }
}
