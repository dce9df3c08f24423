using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.Decoding;

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

/// <summary>Opens a host's traces and its guests' for the fused analysis (<see cref="GuestTraces"/>, shared with the agent).</summary>
internal static class GuestInputs
{
    /// <summary>The merged source (host first, then each guest in order) and the guests' bindings.</summary>
    public static (MergedEventSource Source, EventSource Host, IReadOnlyList<GuestBinding> Bindings) Open(
        IReadOnlyList<string> hostInputs, IReadOnlyList<GuestRequest> guests) =>
        GuestTraces.Open(hostInputs, [.. guests.Select(g => new GuestTrace(g.Name, g.Trace))]);
}
