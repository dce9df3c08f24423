namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// What every event reads: the latest event time, shared by the trackers (threads are created and reclassified
/// at it), and the end of the open window (the window tracker's; an event at or after it closes windows).
/// One object, so the per-event checks touch one cache line.
/// </summary>
internal sealed class EventClock
{
    public long Now;
    public long WindowEnd;
}
