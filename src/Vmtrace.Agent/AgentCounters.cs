using Vmtrace.Wire;

namespace Vmtrace.Agent;

/// <summary>What the agent did. Counters only grow; everything delayed or lost is here.</summary>
public sealed class AgentCounters
{
    private long _eventsRead, _eventsSent, _skipped, _batches, _bytes, _heartbeats, _inventories;
    private long _delivered, _deliveryErrors, _bufferFullWaits, _bufferFullWaitTicks, _tracerLost, _decodeErrors;
    private long _produced, _producedBytes, _settledBytes, _bufferedBytesPeak, _bufferCapacityBytes, _blockedSince;
    private readonly Lock _cpuLock = new();
    private long[] _eventsByCpuBefore = [];
    private EventBatchWriter? _eventsByCpuNow;

    public long EventsRead { get => Interlocked.Read(ref _eventsRead); internal set => Interlocked.Exchange(ref _eventsRead, value); }
    /// <summary>Events put into records.</summary>
    public long EventsSent { get => Interlocked.Read(ref _eventsSent); internal set => Interlocked.Exchange(ref _eventsSent, value); }
    /// <summary>Events the wire selection left out (only with DropUninterpretedEvents).</summary>
    public long EventsSkipped { get => Interlocked.Read(ref _skipped); internal set => Interlocked.Exchange(ref _skipped, value); }
    public long Batches { get => Interlocked.Read(ref _batches); internal set => Interlocked.Exchange(ref _batches, value); }
    public long BatchBytes { get => Interlocked.Read(ref _bytes); internal set => Interlocked.Exchange(ref _bytes, value); }
    public long Heartbeats { get => Interlocked.Read(ref _heartbeats); internal set => Interlocked.Exchange(ref _heartbeats, value); }
    public long Inventories { get => Interlocked.Read(ref _inventories); internal set => Interlocked.Exchange(ref _inventories, value); }
    /// <summary>Records Kafka acknowledged.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);
    /// <summary>Records Kafka did not take after its retries (the agent stops at the first).</summary>
    public long DeliveryErrors => Interlocked.Read(ref _deliveryErrors);
    /// <summary>Times the source waited because the buffer was full (Kafka slow or down).</summary>
    public long BufferFullWaits => Interlocked.Read(ref _bufferFullWaits);
    public TimeSpan BufferFullWaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _bufferFullWaitTicks));
    /// <summary>Events the tracer reported lost (before the agent saw them).</summary>
    public long TracerLostEvents { get => Interlocked.Read(ref _tracerLost); internal set => Interlocked.Exchange(ref _tracerLost, value); }
    /// <summary>Damaged places the decoders skipped (each named on the agent's log), as <c>vmtrace analyze</c> counts them.</summary>
    public long DecodeErrors { get => Interlocked.Read(ref _decodeErrors); internal set => Interlocked.Exchange(ref _decodeErrors, value); }

    /// <summary>Records handed to Kafka's producer (every kind).</summary>
    public long RecordsProduced => Interlocked.Read(ref _produced);
    /// <summary>Records produced but not yet acknowledged or refused: what sits in the bounded buffer now.</summary>
    public long BufferedRecords => Math.Max(0, RecordsProduced - Delivered - DeliveryErrors);
    /// <summary>Bytes (key + value) of <see cref="BufferedRecords"/>.</summary>
    public long BufferedBytes => Math.Max(0, Interlocked.Read(ref _producedBytes) - Interlocked.Read(ref _settledBytes));
    /// <summary>The most <see cref="BufferedBytes"/> seen at any produce.</summary>
    public long BufferedBytesPeak => Interlocked.Read(ref _bufferedBytesPeak);
    /// <summary>The buffer's bound (Agent:MaxBufferedKiB), 0 when the sink has none.</summary>
    public long BufferCapacityBytes { get => Interlocked.Read(ref _bufferCapacityBytes); internal set => Interlocked.Exchange(ref _bufferCapacityBytes, value); }
    /// <summary>The source is waiting for buffer space right now (Kafka slow or down).</summary>
    public bool SourceBlocked => Interlocked.Read(ref _blockedSince) != 0;

    /// <summary>
    /// Events read per CPU, all passes of the source so far, as the batch writers counted them: index 0 holds the
    /// events without a CPU, index i + 1 those of CPU i. Counted as each event is read, so it may be ahead of
    /// <see cref="EventsRead"/> (updated as each batch goes); the sum equals it once the source ended.
    /// </summary>
    public IReadOnlyList<long> EventsReadByCpu()
    {
        lock (_cpuLock)
            return SumByCpu();
    }

    /// <summary>The batch writer of a new pass of the source: the previous one's counts are kept.</summary>
    internal void CountCpusOf(EventBatchWriter writer)
    {
        lock (_cpuLock)
        {
            _eventsByCpuBefore = SumByCpu();
            _eventsByCpuNow = writer;
        }
    }

    private long[] SumByCpu()
    {
        var now = _eventsByCpuNow?.EventsByCpu ?? [];
        var sum = new long[Math.Max(now.Count, _eventsByCpuBefore.Length)];
        _eventsByCpuBefore.CopyTo(sum, 0);
        for (int i = 0; i < now.Count; i++)
            sum[i] += now[i];
        return sum;
    }

    internal void NoteProduced(long bytes)
    {
        Interlocked.Increment(ref _produced);
        Interlocked.Add(ref _producedBytes, bytes);
        long buffered = BufferedBytes;
        long peak;
        while (buffered > (peak = Interlocked.Read(ref _bufferedBytesPeak)) && Interlocked.CompareExchange(ref _bufferedBytesPeak, buffered, peak) != peak)
        {
        }
    }

    internal void NoteDelivered(long bytes)
    {
        Interlocked.Add(ref _settledBytes, bytes);
        Interlocked.Increment(ref _delivered);
    }

    internal void NoteDeliveryError(long bytes)
    {
        Interlocked.Add(ref _settledBytes, bytes);
        Interlocked.Increment(ref _deliveryErrors);
    }

    internal void NoteBlocked(long since) => Interlocked.Exchange(ref _blockedSince, since);

    internal void NoteBufferFull(TimeSpan waited)
    {
        Interlocked.Increment(ref _bufferFullWaits);
        Interlocked.Add(ref _bufferFullWaitTicks, waited.Ticks);
        Interlocked.Exchange(ref _blockedSince, 0);
    }

    /// <summary>The counters as an agent health record's body, read at <paramref name="sampledAt"/>.</summary>
    public WireAgentHealth Snapshot(DateTimeOffset sampledAt) => new()
    {
        SampledAtUnixNs = (sampledAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100,
        EventsRead = EventsRead,
        EventsSent = EventsSent,
        EventsSkipped = EventsSkipped,
        TracerLostEvents = TracerLostEvents,
        DecodeErrors = DecodeErrors,
        Batches = Batches,
        BatchBytes = BatchBytes,
        RecordsProduced = RecordsProduced,
        RecordsDelivered = Delivered,
        DeliveryErrors = DeliveryErrors,
        BufferedRecords = BufferedRecords,
        BufferedBytes = BufferedBytes,
        BufferedBytesPeak = BufferedBytesPeak,
        BufferCapacityBytes = BufferCapacityBytes,
        BufferFullWaits = BufferFullWaits,
        BufferFullWaitNs = BufferFullWaitTime.Ticks * 100,
    };
}
