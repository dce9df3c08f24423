using Vmtrace.Decoding;

namespace Vmtrace.Agent;

/// <summary>
/// An event source seen through a time shift: every event's timestamp plus a shift fixed when the first event is
/// read (<see cref="ReplayTimingOptions.ShiftFor"/> needs that event). Order, fields and everything else are the inner source's.
/// Does not own the inner source.
/// </summary>
internal sealed class ShiftedEventSource(EventSource inner, Func<long, long> shiftForFirstEvent) : EventSource
{
    private bool _started;

    /// <summary>The shift in ns (0 until the first event was read).</summary>
    public long ShiftNs { get; private set; }

    public override string Description => inner.Description;

    public override TraceEvent Current
    {
        get
        {
            var e = inner.Current;
            return e.WithTimestamp(e.Timestamp + ShiftNs);
        }
    }

    public override double Progress => inner.Progress;

    public override TraceClockKind Clock => inner.Clock;

    public override IReadOnlyDictionary<int, string> InitialThreadNames => inner.InitialThreadNames;

    public override int CpuCount => inner.CpuCount;

    public override bool MoveNext()
    {
        if (!inner.MoveNext())
            return false;
        if (!_started)
        {
            ShiftNs = shiftForFirstEvent(inner.Current.Timestamp);
            _started = true;
        }
        return true;
    }
}
