namespace Vmtrace.Analysis;

/// <summary>One physical CPU: who runs on it, and which threads were preempted from it and still wait.</summary>
internal sealed class CpuInfo
{
    private ThreadInfo? _current;
    private bool _known;

    /// <summary>Thread on this CPU (null while idle or unknown).</summary>
    public ThreadInfo? Current
    {
        get => _current;
        set
        {
            _current = value;
            RunningTid = RunningTidOf(value, _known);
        }
    }

    /// <summary>True once an event said who runs here (idle included).</summary>
    public bool Known
    {
        get => _known;
        set
        {
            _known = value;
            RunningTid = RunningTidOf(_current, value);
        }
    }

    /// <summary>
    /// The tid the model has running here (0 = idle), or -1 when not <see cref="Known"/>: every event compares its tid
    /// (never negative) with it, one read instead of three.
    /// </summary>
    public int RunningTid { get; private set; } = -1;
    /// <summary>Time of the last switch on this CPU (recorded or inferred).</summary>
    public long SwitchTime { get; set; }
    /// <summary>Time up to which the preempted threads' waiting has been attributed to the current occupant.</summary>
    public long AttributedUntil { get; set; }
    /// <summary>Threads preempted from this CPU that have not run since. Small: a few per CPU.</summary>
    public List<ThreadInfo> Preempted { get; } = new(8);

    /// <summary>A thread whose tid is not positive (a damaged inventory) matches no event's tid, as with a comparison of threads.</summary>
    private static int RunningTidOf(ThreadInfo? current, bool known) =>
        !known ? -1 : current is null ? 0 : current.Tid > 0 ? current.Tid : int.MinValue;
}
