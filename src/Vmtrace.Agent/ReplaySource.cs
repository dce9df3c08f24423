using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent;

/// <summary>
/// Replays recorded traces (any format <see cref="TraceOpener"/> reads, several merged by time). The
/// inventory comes from a vmmap.json (given, or beside an input) and the trace's own thread names; without a
/// vmmap.json, from the trace itself (<see cref="IdentityInference"/>, a first pass over the inputs), the same
/// inventory <c>vmtrace analyze</c> starts from.
/// </summary>
public sealed class ReplaySource : IAgentSource
{
    private readonly IReadOnlyList<string> _inputs;
    private readonly string? _inventoryPath;
    private readonly bool _sendRawCycles;
    private readonly IReadOnlyList<GuestTrace> _guests;

    /// <param name="sendRawCycles">Replay a trace in raw TSC cycles instead of refusing it (<see cref="AgentOptions.SendRawCycles"/>).</param>
    /// <param name="guests">Guest traces streamed with the host's (<see cref="AgentOptions.Guests"/>): <see cref="Open"/> then gives a <see cref="FusedEventSource"/>.</param>
    public ReplaySource(IReadOnlyList<string> inputs, string? hostId = null, string? inventoryPath = null, bool sendRawCycles = false,
        IReadOnlyList<GuestTrace>? guests = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
            throw new ArgumentException("a replay needs at least one input", nameof(inputs));
        _inputs = inputs;
        _sendRawCycles = sendRawCycles;
        _guests = guests ?? [];
        _inventoryPath = inventoryPath ?? RecordingDirectory.FindInventory(inputs);
        HostId = hostId ?? RecordingDirectory.DefaultHostName(inputs[0]);
    }

    public string HostId { get; }

    public string Description => string.Join(" + ", _inputs);

    public bool IsLive => false;

    public string? InventoryPath => _inventoryPath;

    /// <summary>Opens the inputs; throws <see cref="RawCyclesInputException"/> when their timestamps are raw TSC cycles (unless sending them was asked for).</summary>
    public EventSource Open()
    {
        EventSource opened;
        if (_guests.Count > 0)
        {
            var (merged, _, bindings) = GuestTraces.Open(_inputs, _guests);
            opened = new FusedEventSource(merged, bindings);
        }
        else
        {
            opened = TraceOpener.OpenAll(_inputs);
        }
        try
        {
            if (!_sendRawCycles)
                RawCyclesInputException.ThrowIfCycles(opened);
            return opened;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the inputs once and closes them: an input that cannot be replayed (unreadable, raw TSC cycles) is
    /// refused before the agent starts, with its own exception.
    /// </summary>
    public void CheckInputs() => Open().Dispose();

    public WireInventory Inventory(EventSource opened)
    {
        ArgumentNullException.ThrowIfNull(opened);
        IReadOnlyList<VmInventory> vms;
        if (_inventoryPath is not null)
        {
            vms = VmMapJson.Parse(File.ReadAllText(_inventoryPath));
        }
        else
        {
            using var pass = TraceOpener.OpenAll(_inputs);
            vms = IdentityInference.Of(pass);
        }
        var wireVms = vms.Select(v => new WireVm(v.Name, v.Pid, "", v.TapDevices.ToList(),
            v.Threads.Select(t => new WireVmThread(t.Tid, t.Comm, t.VcpuIndex)).ToList(), v.Identity, v.Evidence)).ToList();
        var names = opened.InitialThreadNames.OrderBy(kv => kv.Key).Select(kv => new WireThreadName(kv.Key, kv.Value)).ToList();
        var guests = opened is FusedEventSource fused
            ? fused.Bindings.Select((b, i) => new WireGuest(b.Name,
                b.HostTidByGuestCpu?.OrderBy(kv => kv.Key).Select(kv => new WireGuestCpu(kv.Key, kv.Value)).ToList() ?? [],
                fused.GuestThreadNames(i).OrderBy(kv => kv.Key).Select(kv => new WireThreadName(kv.Key, kv.Value)).ToList())).ToList()
            : [];
        return new WireInventory(wireVms, names) { Guests = guests };
    }
}
