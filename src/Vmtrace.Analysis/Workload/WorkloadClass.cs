namespace Vmtrace.Analysis;

/// <summary>
/// What a VM did in a window: <see cref="Class"/> is one of <see cref="WorkloadClasses"/>; <see cref="Confidence"/> (0..1)
/// says how clearly (docs/metrics.md, "Workload classes").
/// </summary>
public readonly record struct WorkloadClass(string Class, double Confidence);

/// <summary>The workload classes.</summary>
public static class WorkloadClasses
{
    public const string Idle = "idle";
    public const string Cpu = "cpu";
    public const string Disk = "disk";
    public const string Net = "net";
    public const string Mixed = "mixed";
}
