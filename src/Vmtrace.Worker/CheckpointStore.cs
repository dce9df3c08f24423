using Confluent.Kafka;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>Where partition checkpoints are kept (<see cref="CheckpointStore"/>: the state topic).</summary>
internal interface ICheckpointStore
{
    /// <summary>The latest checkpoint of events partition <paramref name="partition"/> for this group, or null when there is none.</summary>
    /// <exception cref="Vmtrace.Analysis.Checkpoint.CheckpointFormatException">The checkpoint found cannot be read by this build.</exception>
    PartitionState? Load(int partition);

    /// <summary>Writes the checkpoint and waits for its acknowledgement; returns its size in bytes.</summary>
    int Save(PartitionState state);
}

/// <summary>
/// Reads and writes partition checkpoints in the state topic: partition P's checkpoint goes to state
/// partition P, key <c>&lt;group id&gt;/&lt;events topic&gt;/P</c>. Several consumer groups (and events topics) may share
/// the state topic: each reads back only its own key, the latest record with it.
/// </summary>
internal sealed class CheckpointStore(KafkaOptions kafka, string groupId, IProducer<string, byte[]> producer, TimeProvider time) : ICheckpointStore
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>Records read per step when looking back from the end of the state partition for this group's latest checkpoint.</summary>
    private const int LookBack = 64;

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
        string key = PartitionCheckpoint.Key(groupId, kafka.EventsTopic, partition);
        // Other groups' checkpoints interleave with this group's: look back from the end, a slice at a time, for the
        // last record with this group's key (a compacted topic keeps that one).
        for (long end = marks.High.Value; end > marks.Low.Value; end -= LookBack)
        {
            long start = Math.Max(marks.Low.Value, end - LookBack);
            byte[]? latest = LatestWithKey(consumer, tp, start, end, key);
            if (latest is not null)
                return PartitionCheckpoint.Decode(latest, partition);
        }
        return null;
    }

    /// <summary>The value of the last record in [start, end) whose key is <paramref name="key"/>, or null.</summary>
    private byte[]? LatestWithKey(IConsumer<string?, byte[]> consumer, TopicPartition tp, long start, long end, string key)
    {
        consumer.Assign(new TopicPartitionOffset(tp, start));
        byte[]? latest = null;
        long started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < s_timeout)
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (cr is null)
                continue;
            if (cr.IsPartitionEOF)
                return latest;
            if (cr.Offset.Value >= end)
                return latest;
            if (cr.Message.Key == key)
                latest = cr.Message.Value;
            if (cr.Offset.Value == end - 1)
                return latest;
        }
        throw new TimeoutException($"cannot read the checkpoints of partition {tp.Partition.Value} at {kafka.StateTopic}[{tp.Partition.Value}]@{start}..{end - 1} within {s_timeout.TotalSeconds} s");
    }

    public int Save(PartitionState state)
    {
        var value = PartitionCheckpoint.Encode(state);
        var message = new Message<string, byte[]> { Key = PartitionCheckpoint.Key(groupId, kafka.EventsTopic, state.Partition), Value = value };
        producer.ProduceAsync(new TopicPartition(kafka.StateTopic, state.Partition), message).GetAwaiter().GetResult();
        return value.Length;
    }
}
