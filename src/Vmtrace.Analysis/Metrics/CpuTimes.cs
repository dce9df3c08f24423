namespace Vmtrace.Analysis;

/// <summary>
/// Where a vCPU's time went, in ns: in guest mode (kvm_entry→kvm_exit), on a pCPU in host/root mode,
/// preempted (switched out runnable), waiting for a pCPU after a wake-up, and blocked (sleeping).
/// Time while the thread's state is unknown (before its first event, after lost events) is in none of them.
/// <paramref name="BlockedQueuedNs"/> is the part of <paramref name="BlockedNs"/> that the kernel books as
/// run-queue wait: the thread slept but was still queued (EEVDF's delayed dequeue) when the kernel moved it
/// to another CPU, and from that move until it next runs the kernel counts its sleep in run_delay.
/// </summary>
public readonly record struct CpuTimes(long GuestNs, long HostNs, long PreemptedNs, long WaitNs, long BlockedNs, long BlockedQueuedNs)
{
    /// <summary>Time on a pCPU: guest plus host mode.</summary>
    public long OnCpuNs => GuestNs + HostNs;

    /// <summary>Time runnable but off a pCPU: preempted plus wake-up wait.</summary>
    public long StolenNs => PreemptedNs + WaitNs;

    /// <summary>
    /// The run-queue wait in the kernel's books (schedstat run_delay, the steal time KVM reports to the guest):
    /// the time the thread was really runnable, plus the sleep the kernel counts as waiting (<see cref="BlockedQueuedNs"/>).
    /// </summary>
    public long RunDelayNs => PreemptedNs + WaitNs + BlockedQueuedNs;

    public CpuTimes Add(CpuTimes o) =>
        new(GuestNs + o.GuestNs, HostNs + o.HostNs, PreemptedNs + o.PreemptedNs, WaitNs + o.WaitNs, BlockedNs + o.BlockedNs,
            BlockedQueuedNs + o.BlockedQueuedNs);
}
