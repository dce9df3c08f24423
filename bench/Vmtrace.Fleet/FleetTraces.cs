namespace Vmtrace.Fleet;

/// <summary>The small recorded traces of samples/ the fleet replays by default: plain trace-cmd recordings of 1, 2 and 3 TCG guests.</summary>
public static class FleetTraces
{
    public static IReadOnlyList<FleetTrace> Default(string repoRoot) =>
    [
        new("trace-1vm", [Path.Combine(repoRoot, "samples/plain-trace-cmd/1vm/tgid.dat.xz")]),
        new("trace-2vm", [Path.Combine(repoRoot, "samples/plain-trace-cmd/2vm/tgid.dat.xz")]),
        new("trace-3vm", [Path.Combine(repoRoot, "samples/plain-trace-cmd/3vm/tgid.dat.xz")]),
        new("trace-3vm-notgid", [Path.Combine(repoRoot, "samples/plain-trace-cmd/3vm/notgid.dat.xz")]),
    ];
}
