namespace Vmtrace.Analysis;

/// <summary>
/// Everything measured in one closed event-time window [StartNs, EndNs). Windows are emitted in time
/// order; the last one of a run may be shorter (it ends at the flush time). <see cref="HostBlockDisk"/>: block requests
/// issued by host threads of no VM (the disk episodes' other side).
/// </summary>
public sealed record WindowMetrics(long StartNs, long EndNs, int CpuCount, IReadOnlyList<VmMetrics> Vms)
{
    public long LengthNs => EndNs - StartNs;

    public DiskLayerMetrics HostBlockDisk { get; init; } = DiskLayerMetrics.Empty;
}
