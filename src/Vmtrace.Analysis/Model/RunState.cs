namespace Vmtrace.Analysis;

/// <summary>What a thread is doing, as the host scheduler sees it.</summary>
internal enum RunState : byte
{
    /// <summary>Not known yet (no event said), or made uncertain by lost events: its time is not counted.</summary>
    Unknown,
    /// <summary>On a pCPU.</summary>
    Running,
    /// <summary>Switched out while runnable (involuntary), until back on a pCPU.</summary>
    Preempted,
    /// <summary>Woken up, waiting for a pCPU.</summary>
    WaitingAfterWakeup,
    /// <summary>Switched out sleeping (e.g. a vCPU after HLT) until woken.</summary>
    Blocked,
    /// <summary>
    /// Blocked, but moved to another CPU before its wake-up: the kernel had kept it queued (EEVDF's delayed dequeue)
    /// and counts its sleep from that move as run-queue wait (run_delay). Only a queued task is migrated; a sleeping
    /// one moves at its wake-up, after sched_waking.
    /// </summary>
    BlockedQueued,
}
