using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent;

/// <summary>
/// Where the agent's events come from: a replay of trace files now, live tracefs later. A source gives
/// one host's events in time order and what it knows of the host's VMs.
/// </summary>
public interface IAgentSource
{
    /// <summary>Host id: Kafka key and InfluxDB host tag.</summary>
    string HostId { get; }

    /// <summary>For logs: what is read.</summary>
    string Description { get; }

    /// <summary>True for a live source: the watermark follows the wall clock even when no event comes.</summary>
    bool IsLive { get; }

    /// <summary>Opens the events (the caller disposes them).</summary>
    EventSource Open();

    /// <summary>The inventory to send (VMs, thread names known up front), once <paramref name="opened"/> is open.</summary>
    WireInventory Inventory(EventSource opened);
}
