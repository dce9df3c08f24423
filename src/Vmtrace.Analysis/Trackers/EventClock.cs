namespace Vmtrace.Analysis.Trackers;

/// <summary>The latest event time, shared by the trackers (threads are created and reclassified at it).</summary>
internal sealed class EventClock
{
    public long Now;
}
