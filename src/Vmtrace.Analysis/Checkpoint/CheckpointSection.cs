namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// The sections of an analysis checkpoint, in the order they are written; each is the state of one tracker.
/// The number is written before the section, so a reader names the section it fails in.
/// </summary>
internal enum CheckpointSection : byte
{
    /// <summary>Options, event clock, open window, counters (<see cref="HostAnalysis"/> itself).</summary>
    Analysis = 1,
    /// <summary>Threads, VMs, vCPUs, culprit names, names known before the trace, inventory (<see cref="Trackers.IdentityTracker"/>).</summary>
    Identity = 2,
    /// <summary>pCPUs: current thread, preempted vCPU threads (<see cref="Trackers.SchedulerTracker"/>).</summary>
    Scheduler = 3,
    /// <summary>vCPU exit latencies of the open window (<see cref="Trackers.KvmTracker"/>).</summary>
    Kvm = 4,
    /// <summary>Open qemu and block requests, per-VM disk accumulators (<see cref="Trackers.DiskTracker"/>).</summary>
    Disk = 5,
    /// <summary>Network devices and their VMs, per-VM packet counts (<see cref="Trackers.NetworkTracker"/>).</summary>
    Network = 6,
    /// <summary>
    /// Per-VM and per-vCPU time of the open window, closed windows not taken yet (<see cref="Trackers.WindowTracker"/>), the
    /// episode detector fed by them (<see cref="EpisodeDetector"/>), then the wait causes: interrupt contexts, what woke each
    /// thread, waits held for the next kvm_entry, per-vCPU wait causes of the open window (<see cref="Trackers.WaitCauseTracker"/>).
    /// </summary>
    Windows = 7,
    /// <summary>The fused host+guest analysis (<see cref="FusedGuestAnalysis"/>), only when guests are attached (<see cref="HostAnalysis.AttachGuests"/>).</summary>
    Guests = 8,
}

internal static class CheckpointSections
{
    public static string Name(CheckpointSection section) => section switch
    {
        CheckpointSection.Analysis => "analysis",
        CheckpointSection.Identity => "identity",
        CheckpointSection.Scheduler => "scheduler",
        CheckpointSection.Kvm => "kvm",
        CheckpointSection.Disk => "disk",
        CheckpointSection.Network => "network",
        CheckpointSection.Windows => "windows",
        CheckpointSection.Guests => "guests",
        _ => "#" + ((byte)section).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
