namespace Vmtrace.Kafka;

/// <summary>Kafka record headers vmtrace uses beside the wire-format value.</summary>
public static class KafkaHeaders
{
    /// <summary>On a heartbeat: the agent's session ended (the replay is over); the worker flushes the host's last, partial window at the heartbeat's watermark.</summary>
    public const string SessionEnd = "vmtrace-session-end";

    /// <summary>On a dead-lettered record: why it could not be used.</summary>
    public const string DeadLetterReason = "vmtrace-dlq-reason";

    /// <summary>On a dead-lettered record: topic/partition@offset it came from.</summary>
    public const string DeadLetterOrigin = "vmtrace-dlq-origin";

    /// <summary>On a dead-lettered record: the exception type.</summary>
    public const string DeadLetterError = "vmtrace-dlq-error";
}
