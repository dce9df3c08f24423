namespace Vmtrace.Analysis;

/// <summary>
/// A run of consecutive windows [<see cref="StartNs"/>, <see cref="EndNs"/>) in which <see cref="Vm"/> lost some of a
/// <see cref="Resource"/> it wanted, measured against its own demand (docs/metrics.md, "Interference episodes").
/// <see cref="Severity"/> (0..1) is the fraction of the wanted time lost over the episode; <see cref="Culprits"/> say to
/// whom, largest share first; <see cref="Evidence"/> holds the figures the rule fired on; <see cref="Advice"/> is derived from them.
/// </summary>
public sealed record Episode(
    string Vm, string Resource, long StartNs, long EndNs, double Severity, IReadOnlyList<EpisodeCulprit> Culprits,
    IReadOnlyList<EpisodeFigure> Evidence, string Advice)
{
    public long DurationNs => EndNs - StartNs;

    /// <summary>The culprit with the largest share, or null when none is known.</summary>
    public EpisodeCulprit? TopCulprit => Culprits.Count > 0 ? Culprits[0] : null;

    /// <summary>An evidence figure by name (0 when the episode has none of that name).</summary>
    public double Figure(string name)
    {
        foreach (var f in Evidence)
        {
            if (f.Name == name)
                return f.Value;
        }
        return 0;
    }
}

/// <summary>
/// Who took the resource: a VM's name (<see cref="EpisodeCulpritKind.Vm"/>), a host process's comm
/// (<see cref="EpisodeCulpritKind.Host"/>), or a hypervisor part (KVM/vhost kernel threads, an exit reason:
/// <see cref="EpisodeCulpritKind.Hypervisor"/>). <see cref="Share"/> is its part of the lost time (0..1).
/// </summary>
public sealed record EpisodeCulprit(string Name, string Kind, double Share);

/// <summary>One figure of an episode's evidence (names and units in docs/metrics.md).</summary>
public sealed record EpisodeFigure(string Name, double Value);

/// <summary>The kinds of culprit, as written.</summary>
public static class EpisodeCulpritKind
{
    public const string Vm = "vm";
    public const string Host = "host";
    public const string Hypervisor = "hypervisor";
}

/// <summary>The resources an episode is about, as written.</summary>
public static class EpisodeResource
{
    public const string Cpu = "cpu";
    public const string Exits = "exits";
    public const string Disk = "disk";
    public const string Net = "net";
}
