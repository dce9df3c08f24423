namespace Vmtrace.Analysis;

/// <summary>One physical CPU: who runs on it, and which threads were preempted from it and still wait.</summary>
internal sealed class CpuInfo
{
    /// <summary>Thread on this CPU (null while idle or unknown).</summary>
    public ThreadInfo? Current { get; set; }
    /// <summary>True once an event said who runs here (idle included).</summary>
    public bool Known { get; set; }
    /// <summary>Time of the last switch on this CPU (recorded or inferred).</summary>
    public long SwitchTime { get; set; }
    /// <summary>Time up to which the preempted threads' waiting has been attributed to the current occupant.</summary>
    public long AttributedUntil { get; set; }
    /// <summary>Threads preempted from this CPU that have not run since. Small: a few per CPU.</summary>
    public List<ThreadInfo> Preempted { get; } = new(8);
}
