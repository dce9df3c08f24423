using Vmtrace.Analysis;
using Vmtrace.Wire;

namespace Vmtrace.Worker;

/// <summary>One host's stream on the worker: its session, its analysis (created at the first event batch) and its inventory.</summary>
internal sealed class HostStream(string hostId)
{
    public string HostId { get; } = hostId;

    public string SessionId { get; set; } = "";

    /// <summary>Null until the session's first event batch (the analysis starts with its first event, as in <c>vmtrace analyze</c>).</summary>
    public HostAnalysis? Analysis { get; set; }

    /// <summary>The latest inventory received (applied when the analysis starts, and on change).</summary>
    public WireInventory? Inventory { get; set; }

    /// <summary>Canonical text of the inventory last applied to the analysis: a periodic repeat of it changes nothing.</summary>
    public string AppliedInventory { get; set; } = "";
}
