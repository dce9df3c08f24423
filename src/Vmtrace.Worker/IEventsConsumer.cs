using Confluent.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// The events topic's consumer as the worker's parts use it: <see cref="KafkaEventsConsumer"/> is librdkafka's, tests
/// script one. Partition numbers are of the events topic.
/// </summary>
internal interface IEventsConsumer
{
    /// <summary>The next record, or null when none came within <paramref name="timeout"/>.</summary>
    /// <exception cref="ConsumeException">A record could not be read.</exception>
    ConsumeResult<string?, byte[]>? Consume(TimeSpan timeout);

    /// <summary>Stops fetching from every assigned partition (the consumer stays in its group).</summary>
    void PauseAll();

    void ResumeAll();

    /// <summary>Reads from <paramref name="offset"/> again (a record fetched before a pause took effect).</summary>
    void Seek(TopicPartitionOffset offset);

    /// <summary>The group offset of <paramref name="partition"/> (committed by the auto-commit timer).</summary>
    void StoreOffset(int partition, long offset);

    /// <summary>The partition's high watermark as last fetched, negative when not known yet.</summary>
    long HighWatermark(int partition);

    /// <summary>Asks a broker for partition 0's offsets; throws <see cref="KafkaException"/> when none answers.</summary>
    void QueryBroker(TimeSpan timeout);
}

/// <summary><see cref="IEventsConsumer"/> over a librdkafka consumer subscribed to <paramref name="topic"/>.</summary>
internal sealed class KafkaEventsConsumer(IConsumer<string?, byte[]> consumer, string topic) : IEventsConsumer
{
    public ConsumeResult<string?, byte[]>? Consume(TimeSpan timeout) => consumer.Consume(timeout);

    public void PauseAll() => consumer.Pause(consumer.Assignment);

    public void ResumeAll() => consumer.Resume(consumer.Assignment);

    public void Seek(TopicPartitionOffset offset) => consumer.Seek(offset);

    public void StoreOffset(int partition, long offset) => consumer.StoreOffset(new TopicPartitionOffset(topic, partition, offset));

    public long HighWatermark(int partition) => consumer.GetWatermarkOffsets(new TopicPartition(topic, partition)).High.Value;

    public void QueryBroker(TimeSpan timeout) => consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), timeout);
}
