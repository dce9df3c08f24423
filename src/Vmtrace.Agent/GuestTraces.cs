using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Agent;

/// <summary>One guest trace read with its host's: the VM (as vmtrace names it, or its qemu -name) and the trace recorded inside it.</summary>
public sealed record GuestTrace(string Name, string Path);

/// <summary>
/// Opens a host's traces and its guests' for the fused analysis (<c>vmtrace analyze --guest</c>, the agent's
/// <c>Agent:Guests</c>) and ties each guest to its VM: guest CPU n is the host thread trace-cmd's GUEST option names for
/// it (host+guest recordings), else vCPU n of the VM named NAME. A guest trace must be on the host's clock: trace-cmd's
/// TIME_SHIFT to this host (applied when read), or the same clock (Trace Compass's XML stubs).
/// </summary>
public static class GuestTraces
{
    /// <summary>The merged source (host first, then each guest in order), the host's source and the guests' bindings.</summary>
    /// <exception cref="InconsistentInputsException">A guest trace tied to another host, or on another clock.</exception>
    public static (MergedEventSource Source, EventSource Host, IReadOnlyList<GuestBinding> Bindings) Open(
        IReadOnlyList<string> hostInputs, IReadOnlyList<GuestTrace> guests)
    {
        ArgumentNullException.ThrowIfNull(guests);
        var opened = new List<EventSource>();
        try
        {
            var host = TraceOpener.OpenAll(hostInputs);
            opened.Add(host);
            var hostGuests = GuestOptions(host);
            var bindings = new List<GuestBinding>();
            foreach (var g in guests)
            {
                var source = TraceOpener.Open(g.Path);
                opened.Add(source);
                bindings.Add(Bind(host, hostGuests, g, source));
            }
            return (new MergedEventSource(opened), host, bindings);
        }
        catch
        {
            foreach (var s in opened)
                s.Dispose();
            throw;
        }
    }

    private static GuestBinding Bind(EventSource host, IReadOnlyList<TraceDatGuest> hostGuests, GuestTrace g, EventSource guest)
    {
        var hostMachine = host.Machine;
        var guestMachine = guest.Machine;
        bool shifted = guestMachine?.HostTraceId is { } peer && hostMachine?.TraceId == peer;
        if (!shifted && guestMachine?.HostTraceId is { } other)
            throw new InconsistentInputsException(
                $"--guest {g.Name}={g.Path}: that trace's TIME_SHIFT ties it to host trace {other:x16}, not to {host.Description} ({hostMachine?.ToString() ?? "no trace id"})");
        if (!shifted)
            InputConsistency.CheckClocks(host, guest);

        var recorded = hostGuests.FirstOrDefault(h => guestMachine?.TraceId is { } id && h.TraceId == id)
            ?? hostGuests.FirstOrDefault(h => h.Name.Length > 0 && string.Equals(h.Name, g.Name, StringComparison.Ordinal));
        if (recorded is not null)
            return new GuestBinding(g.Name, recorded.HostTidByGuestCpu);
        // A VM the analysis names as it goes (inventory, or found in the trace): checked once the host trace is read.
        return new GuestBinding(g.Name);
    }

    /// <summary>The GUEST options of the host's trace.dat files (host+guest recordings of trace-cmd).</summary>
    private static IReadOnlyList<TraceDatGuest> GuestOptions(EventSource host) => host switch
    {
        FtraceFileSource f => f.Guests,
        MergedEventSource m => m.Inputs.SelectMany(GuestOptions).ToList(),
        _ => [],
    };
}

/// <summary>
/// A host's events and its guests' merged by time, as the agent streams them (<see cref="ReplaySource"/> with guests):
/// the host's clock, CPU count and thread names, and for each event whose it is (<see cref="CurrentGuest"/>).
/// Owns the merged source.
/// </summary>
public sealed class FusedEventSource(MergedEventSource merged, IReadOnlyList<GuestBinding> bindings) : EventSource
{
    private EventSource Host => merged.Inputs[0];

    /// <summary>The merged inputs (their diagnostics: <see cref="TraceOpener.DiagnosticsOf"/>).</summary>
    public MergedEventSource Merged => merged;

    /// <summary>The guests in order: <see cref="CurrentGuest"/> n is <c>Bindings[n − 1]</c>.</summary>
    public IReadOnlyList<GuestBinding> Bindings { get; } = bindings;

    /// <summary>0 for a host event, n for an event of guest <c>Bindings[n − 1]</c>.</summary>
    public int CurrentGuest => merged.CurrentInput;

    /// <summary>The thread names guest <paramref name="guest"/> (0-based) knows up front.</summary>
    public IReadOnlyDictionary<int, string> GuestThreadNames(int guest) => merged.Inputs[guest + 1].InitialThreadNames;

    public override string Description => merged.Description;

    public override TraceEvent Current => merged.Current;

    public override bool MoveNext() => merged.MoveNext();

    public override double Progress => merged.Progress;

    public override TraceClockKind Clock => Host.Clock;

    public override string ClockName => Host.ClockName;

    public override MachineIdentity? Machine => Host.Machine;

    public override IReadOnlyDictionary<int, string> InitialThreadNames => Host.InitialThreadNames;

    public override int CpuCount => Host.CpuCount;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            merged.Dispose();
        base.Dispose(disposing);
    }
}
