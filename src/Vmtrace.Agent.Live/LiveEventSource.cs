using Vmtrace.Decoding;

namespace Vmtrace.Agent.Live;

/// <summary>
/// A source that follows something still being written (ring buffers, growing logs, LTTng chunks).
/// <see cref="TryMoveNext"/> returns <see cref="LiveReadResult.Idle"/> instead of blocking forever;
/// <see cref="Watermark"/> says up to when (realtime ns) everything has been delivered or is ready, so
/// several live sources can be merged in order (<see cref="LiveMergedSource"/>). <see cref="MoveNext"/>
/// blocks until an event or the end, for consumers of the plain <see cref="EventSource"/> contract.
/// A source only says what it has now (<see cref="Poll"/>); the waiting between polls is this class's, on the
/// <see cref="LivePoll"/>'s clock.
/// </summary>
public abstract class LiveEventSource : EventSource, ILiveEventSource
{
    private volatile bool _stopRequested;

    protected LiveEventSource(LivePoll poll)
    {
        ArgumentNullException.ThrowIfNull(poll);
        Polling = poll;
    }

    /// <summary>The clock and interval of this source's waits.</summary>
    protected LivePoll Polling { get; }

    /// <summary>Whether <see cref="RequestStop"/> was called.</summary>
    protected bool StopRequested => _stopRequested;

    /// <summary>Releases the next event, polling the source until one comes, it ends, or <paramref name="maxWait"/> is over.</summary>
    public LiveReadResult TryMoveNext(TimeSpan maxWait)
    {
        long begun = Polling.Begin();
        while (true)
        {
            var result = Poll();
            if (result != LiveReadResult.Idle || !Polling.PauseWithin(begun, maxWait))
                return result;
        }
    }

    /// <summary>Without waiting: an event (then <see cref="EventSource.Current"/>), the end, or <see cref="LiveReadResult.Idle"/> when nothing can be released now.</summary>
    protected abstract LiveReadResult Poll();

    /// <summary>No event at or before this time (realtime ns) is still to come from this source.</summary>
    public abstract long Watermark { get; }

    /// <summary>Asks the source to deliver what it has, then end. Thread-safe.</summary>
    public virtual void RequestStop() => _stopRequested = true;

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
