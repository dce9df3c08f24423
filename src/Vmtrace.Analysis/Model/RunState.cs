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
}
