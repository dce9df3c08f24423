namespace Vmtrace.InfluxDb;

/// <summary>
/// Health of the write path, for the pipeline's own measurement: updated atomically by every write, read
/// with <see cref="Snapshot"/>. Bytes are what went over the wire (compressed when gzip is on).
/// </summary>
public sealed class InfluxWriteCounters
{
    private long _pointsWritten;
    private long _requests;
    private long _bytesSent;
    private long _retries;
    private long _failures;
    private long _deadLettered;
    private long _unidentifiedDropped;
    private long _droppedByRetention;
    private long _splits;
    private long _latencyTotalTicks;
    private long _latencyMaxTicks;
    private long _acknowledgedWrites;

    internal void PointsWritten(long count) => Interlocked.Add(ref _pointsWritten, count);

    internal void RequestSent(long bytes)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void Retried() => Interlocked.Increment(ref _retries);

    internal void Failed() => Interlocked.Increment(ref _failures);

    internal void DeadLettered(long lines) => Interlocked.Add(ref _deadLettered, lines);

    internal void UnidentifiedDropped(long lines) => Interlocked.Add(ref _unidentifiedDropped, lines);

    internal void DroppedByRetention(long lines) => Interlocked.Add(ref _droppedByRetention, lines);

    internal void Split() => Interlocked.Increment(ref _splits);

    /// <summary>One write acknowledged after <paramref name="elapsed"/> (all its retries included).</summary>
    internal void Acknowledged(TimeSpan elapsed)
    {
        Interlocked.Increment(ref _acknowledgedWrites);
        Interlocked.Add(ref _latencyTotalTicks, elapsed.Ticks);
        long seen = Volatile.Read(ref _latencyMaxTicks);
        while (elapsed.Ticks > seen)
        {
            long prior = Interlocked.CompareExchange(ref _latencyMaxTicks, elapsed.Ticks, seen);
            if (prior == seen)
                break;
            seen = prior;
        }
    }

    public InfluxWriteStats Snapshot()
    {
        long acknowledged = Volatile.Read(ref _acknowledgedWrites);
        long total = Volatile.Read(ref _latencyTotalTicks);
        return new InfluxWriteStats(
            PointsWritten: Volatile.Read(ref _pointsWritten),
            Requests: Volatile.Read(ref _requests),
            BytesSent: Volatile.Read(ref _bytesSent),
            Retries: Volatile.Read(ref _retries),
            Failures: Volatile.Read(ref _failures),
            DeadLetteredLines: Volatile.Read(ref _deadLettered),
            UnidentifiedDroppedLines: Volatile.Read(ref _unidentifiedDropped),
            Splits: Volatile.Read(ref _splits),
            AcknowledgedWrites: acknowledged,
            MeanWriteLatency: acknowledged == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(total / acknowledged),
            MaxWriteLatency: TimeSpan.FromTicks(Volatile.Read(ref _latencyMaxTicks)),
            DroppedByRetention: Volatile.Read(ref _droppedByRetention));
    }
}

/// <param name="PointsWritten">Points InfluxDB stored (acknowledged lines minus the rejected ones).</param>
/// <param name="Requests">HTTP write requests sent, retries and split halves included.</param>
/// <param name="BytesSent">Request body bytes sent.</param>
/// <param name="Retries">Attempts repeated after 429, 5xx, a timeout or a connection error.</param>
/// <param name="Failures">Writes that ended in an exception (nothing of them may be assumed stored).</param>
/// <param name="DeadLetteredLines">Lines handed to the dead-letter sink (rejected by the server or too large to send).</param>
/// <param name="UnidentifiedDroppedLines">Lines a partial write dropped that the answer did not name (e.g. "points beyond retention policy").</param>
/// <param name="Splits">Batches cut in halves after 413 (request too large).</param>
/// <param name="AcknowledgedWrites">WriteAsync calls that completed.</param>
/// <param name="DroppedByRetention">Of <paramref name="UnidentifiedDroppedLines"/>, those InfluxDB dropped for being older than the retention policy keeps ("points beyond retention policy").</param>
public sealed record InfluxWriteStats(
    long PointsWritten, long Requests, long BytesSent, long Retries, long Failures, long DeadLetteredLines,
    long UnidentifiedDroppedLines, long Splits, long AcknowledgedWrites, TimeSpan MeanWriteLatency, TimeSpan MaxWriteLatency,
    long DroppedByRetention);
