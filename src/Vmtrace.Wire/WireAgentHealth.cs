namespace Vmtrace.Wire;

/// <summary>The body of an <c>AgentHealth</c> record: the agent's counters since it started (see events.proto).</summary>
public sealed record WireAgentHealth
{
    /// <summary>The agent's wall clock when the counters were read, in ns since the Unix epoch.</summary>
    public long SampledAtUnixNs { get; init; }
    public long EventsRead { get; init; }
    public long EventsSent { get; init; }
    public long EventsSkipped { get; init; }
    public long TracerLostEvents { get; init; }
    public long Batches { get; init; }
    public long BatchBytes { get; init; }
    public long RecordsProduced { get; init; }
    public long RecordsDelivered { get; init; }
    public long DeliveryErrors { get; init; }
    public long BufferedRecords { get; init; }
    public long BufferedBytes { get; init; }
    public long BufferedBytesPeak { get; init; }
    public long BufferCapacityBytes { get; init; }
    public long BufferFullWaits { get; init; }
    public long BufferFullWaitNs { get; init; }
    public long DecodeErrors { get; init; }
}
