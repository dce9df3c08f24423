using Vmtrace.Decoding;

namespace Vmtrace.Agent.Live;

/// <summary>
/// A source that follows something still being written (ring buffers, growing logs, LTTng chunks).
/// <see cref="TryMoveNext"/> returns <see cref="LiveReadResult.Idle"/> instead of blocking forever;
/// <see cref="Watermark"/> says up to when (realtime ns) everything has been delivered or is ready, so
/// several live sources can be merged in order (<see cref="LiveMergedSource"/>). <see cref="MoveNext"/>
/// blocks until an event or the end, for consumers of the plain <see cref="EventSource"/> contract.
/// </summary>
public abstract class LiveEventSource : EventSource, ILiveEventSource
{
    /// <summary>Releases the next event, waiting up to <paramref name="maxWait"/> for one.</summary>
    public abstract LiveReadResult TryMoveNext(TimeSpan maxWait);

    /// <summary>No event at or before this time (realtime ns) is still to come from this source.</summary>
    public abstract long Watermark { get; }

    /// <summary>Asks the source to deliver what it has, then end. Thread-safe.</summary>
    public abstract void RequestStop();

    /// <summary>This source's own diagnostics; a source that merges others adds theirs.</summary>
    public virtual SourceDiagnostics CollectDiagnostics() => Diagnostics;

    public override TraceClockKind Clock => TraceClockKind.Realtime;

    public override bool MoveNext()
    {
        while (true)
        {
            var r = TryMoveNext(TimeSpan.FromMilliseconds(200));
            if (r == LiveReadResult.Event)
                return true;
            if (r == LiveReadResult.End)
                return false;
        }
    }
}
