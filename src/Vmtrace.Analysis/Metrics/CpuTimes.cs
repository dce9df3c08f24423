namespace Vmtrace.Analysis;

/// <summary>
/// Where a vCPU's time went, in ns: in guest mode (kvm_entry→kvm_exit), on a pCPU in host/root mode,
/// preempted (switched out runnable), waiting for a pCPU after a wake-up, and blocked (sleeping).
/// Time while the thread's state is unknown (before its first event, after lost events) is in none of them.
/// </summary>
public readonly record struct CpuTimes(long GuestNs, long HostNs, long PreemptedNs, long WaitNs, long BlockedNs)
{
    /// <summary>Time on a pCPU: guest plus host mode.</summary>
    public long OnCpuNs => GuestNs + HostNs;

    /// <summary>Time runnable but off a pCPU: preempted plus wake-up wait.</summary>
    public long StolenNs => PreemptedNs + WaitNs;

    public CpuTimes Add(CpuTimes o) =>
        new(GuestNs + o.GuestNs, HostNs + o.HostNs, PreemptedNs + o.PreemptedNs, WaitNs + o.WaitNs, BlockedNs + o.BlockedNs);
}
