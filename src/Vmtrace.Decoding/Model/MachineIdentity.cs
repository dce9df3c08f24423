namespace Vmtrace.Decoding;

/// <summary>
/// What a trace says about the machine it was recorded on: its host name (trace.dat UNAME, CTF env hostname),
/// its trace-cmd trace id, and the trace ids that tie a host's trace to its guests' (GUEST options) or a guest's
/// trace to its host's (TIME_SHIFT peer).
/// </summary>
public sealed record MachineIdentity(string? HostName, ulong? TraceId = null, ulong? HostTraceId = null, IReadOnlyList<ulong>? GuestTraceIds = null)
{
    /// <summary>True when this trace was recorded in a guest of the machine that recorded <paramref name="host"/>.</summary>
    public bool IsGuestOf(MachineIdentity host) =>
        (TraceId is { } id && host.GuestTraceIds is { } guests && guests.Contains(id))
        || (HostTraceId is { } peer && peer == host.TraceId);

    /// <summary>True when the two traces certainly come from two machines.</summary>
    public bool DiffersFrom(MachineIdentity other) =>
        IsGuestOf(other) || other.IsGuestOf(this)
        || (HostName is { Length: > 0 } a && other.HostName is { Length: > 0 } b && !string.Equals(a, b, StringComparison.OrdinalIgnoreCase));

    public override string ToString()
    {
        string name = HostName is { Length: > 0 } h ? $"machine '{h}'" : "machine unnamed";
        if (HostTraceId is { } peer)
            return $"{name}, a guest: TIME_SHIFT to host trace {peer:x16}";
        if (GuestTraceIds is { Count: > 0 } guests)
            return $"{name}, a host: GUEST trace {string.Join(", ", guests.Select(g => g.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)))}";
        return name;
    }
}
