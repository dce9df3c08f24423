namespace Vmtrace.Analysis;

/// <summary>
/// Network of one VM, seen from the VM: received = packets the host sent into its tap device
/// (net_dev_xmit on it), transmitted = packets that came out of it (netif_receive_skb on it);
/// plus the on-CPU (busy) and runnable-but-waiting time of its vhost threads, and the gaps between successive
/// packets each way (<see cref="RxGaps"/>, <see cref="TxGaps"/>: all the VM's taps together, counted at the later packet).
/// </summary>
public sealed record NetworkMetrics(long RxPackets, long RxBytes, long TxPackets, long TxBytes, long VhostBusyNs, long VhostWaitNs)
{
    public DurationSpread RxGaps { get; init; }

    public DurationSpread TxGaps { get; init; }

    public static NetworkMetrics Empty => new(0, 0, 0, 0, 0, 0);

    public bool IsEmpty => RxPackets == 0 && TxPackets == 0 && VhostBusyNs == 0 && VhostWaitNs == 0;

    public NetworkMetrics Merge(NetworkMetrics o) => new(RxPackets + o.RxPackets, RxBytes + o.RxBytes,
        TxPackets + o.TxPackets, TxBytes + o.TxBytes, VhostBusyNs + o.VhostBusyNs, VhostWaitNs + o.VhostWaitNs)
    {
        RxGaps = RxGaps.Merge(o.RxGaps),
        TxGaps = TxGaps.Merge(o.TxGaps),
    };
}
