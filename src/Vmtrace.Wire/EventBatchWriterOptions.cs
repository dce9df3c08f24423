namespace Vmtrace.Wire;

/// <summary>When a batch is full, and what the selection drops. Defaults suit a Kafka topic with 1 MiB messages.</summary>
public sealed class EventBatchWriterOptions
{
    /// <summary>A batch is full at this many events.</summary>
    public int MaxEvents { get; init; } = 32_768;

    /// <summary>A batch is full when its encoded columns reach about this many bytes (before compression).</summary>
    public int MaxBytes { get; init; } = 512 * 1024;

    /// <summary>A batch is full when its events span this much time (ns): a worker sees a quiet host's events at least this often.</summary>
    public long MaxSpanNs { get; init; } = 1_000_000_000L;

    /// <summary>
    /// Drop events whose type the analysis does not interpret (<see cref="Decoding.KnownEvent.Unknown"/>) instead
    /// of sending their timestamp, CPU and tid. Smaller, but the analysis then infers fewer missing context
    /// switches, so its results can differ from <c>vmtrace analyze</c>. Off by default.
    /// </summary>
    public bool DropUninterpretedEvents { get; init; }

    public void Validate()
    {
        if (MaxEvents < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxEvents), MaxEvents, "a batch holds at least one event");
        if (MaxBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "a batch holds at least one byte");
        if (MaxSpanNs < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxSpanNs), MaxSpanNs, "the batch time span must be positive");
    }
}
