namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>The database holds a retention policy or continuous query of the same name but another definition.</summary>
public sealed class BootstrapConflictException(IReadOnlyList<string> conflicts)
    : InfluxException("InfluxDB bootstrap found conflicts (re-run with --force to alter them):\n  " + string.Join("\n  ", conflicts))
{
    public IReadOnlyList<string> Conflicts { get; } = conflicts;
}
