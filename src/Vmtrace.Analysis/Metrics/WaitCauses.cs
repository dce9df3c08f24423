namespace Vmtrace.Analysis;

/// <summary>
/// Time a vCPU thread was blocked (its guest halted or waiting on the host), by what ended the wait: the root of the
/// wake-up chain on the host (docs/metrics.md, "Wait causes"). Each wait is counted whole in the window it ends in.
/// </summary>
public readonly record struct WaitCauses(long TimerNs, long DiskNs, long NetNs, long VcpuNs, long HostNs, long UnknownNs)
{
    public long TotalNs => TimerNs + DiskNs + NetNs + VcpuNs + HostNs + UnknownNs;

    public WaitCauses Add(WaitCauses o) =>
        new(TimerNs + o.TimerNs, DiskNs + o.DiskNs, NetNs + o.NetNs, VcpuNs + o.VcpuNs, HostNs + o.HostNs, UnknownNs + o.UnknownNs);

    internal static WaitCauses From(ReadOnlySpan<long> byCause) =>
        new(byCause[(int)WaitCause.Timer], byCause[(int)WaitCause.Disk], byCause[(int)WaitCause.Net], byCause[(int)WaitCause.Vcpu],
            byCause[(int)WaitCause.Host], byCause[(int)WaitCause.Unknown]);
}
