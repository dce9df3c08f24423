namespace Vmtrace.Agent;

/// <summary>What the agent did. Counters only grow; everything delayed or lost is here.</summary>
public sealed class AgentCounters
{
    private long _eventsRead, _eventsSent, _skipped, _batches, _bytes, _heartbeats, _inventories;
    private long _delivered, _deliveryErrors, _bufferFullWaits, _bufferFullWaitTicks, _tracerLost;

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

    internal void NoteDelivered() => Interlocked.Increment(ref _delivered);

    internal void NoteDeliveryError() => Interlocked.Increment(ref _deliveryErrors);

    internal void NoteBufferFull(TimeSpan waited)
    {
        Interlocked.Increment(ref _bufferFullWaits);
        Interlocked.Add(ref _bufferFullWaitTicks, waited.Ticks);
    }
}
