namespace Vmtrace.Analysis;

/// <summary>
/// Disk requests of one VM at one layer (qemu's thread pool, or the host block layer): requests opened
/// (submitted/issued) and closed in the window, bytes by direction (counted at completion), latency of
/// the requests closed, gaps between successive submits and completions, and requests still open at
/// the window end (in flight) with the most open at once.
/// </summary>
public sealed record DiskLayerMetrics(
    long Submitted, long Completed, long ReadRequests, long WriteRequests, long ReadBytes, long WriteBytes,
    LatencyMetrics Latency, IntervalStats SubmitIntervals, IntervalStats CompleteIntervals, long InFlight, long MaxInFlight)
{
    public static DiskLayerMetrics Empty => new(0, 0, 0, 0, 0, 0, LatencyMetrics.Empty, default, default, 0, 0);

    public bool IsEmpty => Submitted == 0 && Completed == 0 && InFlight == 0;

    /// <summary>Merges a later window into this one: counts add, in-flight is the later one's.</summary>
    public DiskLayerMetrics Merge(DiskLayerMetrics later) => new(
        Submitted + later.Submitted, Completed + later.Completed, ReadRequests + later.ReadRequests,
        WriteRequests + later.WriteRequests, ReadBytes + later.ReadBytes, WriteBytes + later.WriteBytes,
        Latency.Merge(later.Latency), SubmitIntervals.Merge(later.SubmitIntervals),
        CompleteIntervals.Merge(later.CompleteIntervals), later.InFlight, Math.Max(MaxInFlight, later.MaxInFlight));
}
