using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Cli;

/// <summary>One <c>--guest NAME=GUEST_TRACE</c>: the VM (as vmtrace names it, or its qemu -name) and the trace recorded inside it.</summary>
internal sealed record GuestRequest(string Name, string Trace)
{
    public static GuestRequest Parse(string value)
    {
        int eq = value.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == value.Length - 1)
            throw new UsageException($"--guest expects NAME=GUEST_TRACE (NAME: the VM), got '{value}'");
        return new GuestRequest(value[..eq], value[(eq + 1)..]);
    }
}

/// <summary>A guest's figures as analyze reports them, with the trace they come from.</summary>
internal sealed record GuestReport(string Trace, GuestMetrics Metrics);

/// <summary>
/// Opens a host's traces and its guests' for the fused analysis and ties each guest to its VM: guest CPU n is the
/// host thread trace-cmd's GUEST option names for it (host+guest recordings), else vCPU n of the VM named NAME.
/// A guest trace must be on the host's clock: trace-cmd's TIME_SHIFT to this host (applied when read), or the
/// same clock (Trace Compass's XML stubs).
/// </summary>
internal static class GuestInputs
{
    /// <summary>The merged source (host first, then each guest in order) and the guests' bindings.</summary>
    public static (MergedEventSource Source, EventSource Host, IReadOnlyList<GuestBinding> Bindings) Open(
        IReadOnlyList<string> hostInputs, IReadOnlyList<GuestRequest> guests)
    {
        var opened = new List<EventSource>();
        try
        {
            var host = TraceOpener.OpenAll(hostInputs);
            opened.Add(host);
            var hostGuests = GuestOptions(host);
            var bindings = new List<GuestBinding>();
            foreach (var g in guests)
            {
                var source = TraceOpener.Open(g.Trace);
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

    private static GuestBinding Bind(EventSource host, IReadOnlyList<TraceDatGuest> hostGuests, GuestRequest g, EventSource guest)
    {
        var hostMachine = host.Machine;
        var guestMachine = guest.Machine;
        bool shifted = guestMachine?.HostTraceId is { } peer && hostMachine?.TraceId == peer;
        if (!shifted && guestMachine?.HostTraceId is { } other)
            throw new InconsistentInputsException(
                $"--guest {g.Name}={g.Trace}: that trace's TIME_SHIFT ties it to host trace {other:x16}, not to {host.Description} ({hostMachine?.ToString() ?? "no trace id"})");
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
