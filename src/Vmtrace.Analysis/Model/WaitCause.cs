namespace Vmtrace.Analysis;

/// <summary>What ended a wait: the root of the wake-up chain (see <see cref="Trackers.WaitCauseTracker"/>). 0 = not known yet.</summary>
internal enum WaitCause : byte
{
    None,
    /// <summary>A timer: hrtimer/timer softirq, a timer interrupt (a wake-up from idle with no other interrupt traced), the guest's local timer vector.</summary>
    Timer,
    /// <summary>Disk: a block completion, the VM's qemu thread-pool workers, a disk interrupt or the block softirq.</summary>
    Disk,
    /// <summary>Network: vhost, a packet queued on a tap, the network softirqs or a network interrupt.</summary>
    Net,
    /// <summary>Another vCPU of the same VM (an IPI, or a vCPU thread waking it directly).</summary>
    Vcpu,
    /// <summary>Another process of the host.</summary>
    Host,
    /// <summary>Nothing tells: the wake-up was not traced, or its chain ends in a thread woken by nothing known.</summary>
    Unknown,
}
