namespace Vmtrace.Kafka;

/// <summary>Topic names (kafka/topics.conf defines their partitions and retention on a real broker).</summary>
public static class KafkaTopics
{
    /// <summary>Event batches, inventories and heartbeats; key = host id, so one host's records stay ordered in one partition.</summary>
    public const string Events = "vmtrace.events";

    /// <summary>Worker checkpoints (compacted); key = events partition, value = resume offset and every host's analysis state.</summary>
    public const string State = "vmtrace.state";

    /// <summary>Records the worker could not decode, as they were, with the reason and origin in headers.</summary>
    public const string DeadLetter = "vmtrace.deadletter";
}
