namespace Vmtrace.Analysis;

/// <summary>Mutable per-window figures of one VM beyond its vCPUs.</summary>
internal sealed class VmAccumulator
{
    public long ThreadsOnCpuNs;
    public long VhostBusyNs;
    public long VhostWaitNs;
    public long RxPackets;
    public long RxBytes;
    public long TxPackets;
    public long TxBytes;
    public readonly DiskLayerAccumulator QemuDisk = new();
    public readonly DiskLayerAccumulator BlockDisk = new();
    /// <summary>Preempted ns by culprit id.</summary>
    public readonly Dictionary<int, long> Interference = [];

    public bool IsEmpty => ThreadsOnCpuNs == 0 && VhostBusyNs == 0 && VhostWaitNs == 0 && RxPackets == 0 && TxPackets == 0
        && QemuDisk.IsEmpty && BlockDisk.IsEmpty && Interference.Count == 0;

    public NetworkMetrics Network => new(RxPackets, RxBytes, TxPackets, TxBytes, VhostBusyNs, VhostWaitNs);

    public void Clear()
    {
        ThreadsOnCpuNs = VhostBusyNs = VhostWaitNs = RxPackets = RxBytes = TxPackets = TxBytes = 0;
        QemuDisk.ClearWindow();
        BlockDisk.ClearWindow();
        Interference.Clear();
    }
}
