namespace Vmtrace.Decoding;

/// <summary>What a source's timestamps count from.</summary>
public enum TraceClockKind
{
    /// <summary>Unknown origin (boot time, raw counter): only differences are meaningful.</summary>
    Unknown,
    /// <summary>Nanoseconds since the UNIX epoch (ftrace "tai"/"realtime" on a host whose TAI offset is 0, CTF with an epoch offset, qemu's log).</summary>
    Realtime,
    /// <summary>CLOCK_MONOTONIC nanoseconds (ftrace "mono", perf -k CLOCK_MONOTONIC).</summary>
    Monotonic,
    /// <summary>Raw CPU cycles (x86-tsc without a TSC2NSEC conversion).</summary>
    Cycles,
}

/// <summary>
/// A time-ordered stream of decoded events, pulled with <see cref="MoveNext"/>. Readers of every
/// format implement it; <see cref="MergedEventSource"/> merges several by timestamp.
/// </summary>
public abstract class EventSource : IDisposable
{
    /// <summary>The file or directory read, for messages.</summary>
    public abstract string Description { get; }

    /// <summary>Advances to the next event. False at the end.</summary>
    public abstract bool MoveNext();

    /// <summary>The current event; valid until the next <see cref="MoveNext"/>.</summary>
    public abstract TraceEvent Current { get; }

    /// <summary>Lost events, skipped bytes and format errors met so far.</summary>
    public SourceDiagnostics Diagnostics { get; } = new();

    /// <summary>Fraction of the input consumed, 0..1, for progress bars.</summary>
    public virtual double Progress => 0;

    public virtual TraceClockKind Clock => TraceClockKind.Unknown;

    /// <summary>The clock as the trace names it, for messages ("mono", "x86-tsc", "realtime (qemu log)"…).</summary>
    public virtual string ClockName => "unknown";

    /// <summary>The machine the trace was recorded on, when the trace says (null: it does not).</summary>
    public virtual MachineIdentity? Machine => null;

    /// <summary>The trace was recorded inside a guest (a TIME_SHIFT to its host's trace, or the guest side of vmsync events).</summary>
    public virtual bool RecordedInGuest => Machine?.HostTraceId is not null;

    /// <summary>Thread names the trace knows up front (ftrace saved_cmdlines, LTTng statedump): tid → comm.</summary>
    public virtual IReadOnlyDictionary<int, string> InitialThreadNames => EmptyNames;

    /// <summary>Number of CPUs the trace covers, 0 when unknown.</summary>
    public virtual int CpuCount => 0;

    private static readonly IReadOnlyDictionary<int, string> EmptyNames = new Dictionary<int, string>();

    protected virtual void Dispose(bool disposing)
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
