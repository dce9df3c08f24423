namespace Vmtrace.InfluxDb;

/// <summary>Batching of <see cref="InfluxBatchingWriter"/>; defaults document themselves.</summary>
public sealed class InfluxBatchingOptions
{
    /// <summary>A batch is sent when it holds this many lines…</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>…or when its first line has waited this long.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lines waiting at most; <see cref="InfluxBatchingWriter.EnqueueAsync"/> waits while the queue is full (back-pressure).</summary>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>A batch whose write failed (after the client's own retries) is tried this many times in all, then dead-lettered.</summary>
    public int MaxBatchAttempts { get; set; } = 3;

    /// <summary>Pause before trying a failed batch again; doubles per failure.</summary>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromSeconds(5);
}
