namespace Vmtrace.Analysis;

/// <summary>
/// One VM in one window (or merged over several). <see cref="VcpuTimes"/> sums its vCPUs;
/// <see cref="ThreadsOnCpuNs"/> is the on-CPU time of all its threads (vCPUs, main loop, I/O workers,
/// vhost); <see cref="PcpuShare"/> = ThreadsOnCpuNs / (window length × pCPUs).
/// </summary>
public sealed record VmMetrics(
    string Vm, int Pid, string Origin, CpuTimes VcpuTimes, long ThreadsOnCpuNs, double PcpuShare, int ActiveVcpus,
    IReadOnlyList<VcpuMetrics> Vcpus, IReadOnlyList<ExitMetrics> Exits,
    DiskLayerMetrics QemuDisk, DiskLayerMetrics BlockDisk, NetworkMetrics Network, IReadOnlyList<Interference> Interferers)
{
    public long ExitCount => Exits.Sum(x => x.Latency.Count);

    /// <summary>How the VM was identified: one of <see cref="VmIdentity"/> (<see cref="Origin"/> says on what).</summary>
    public string Identity { get; init; } = VmIdentity.Guess;

    /// <summary>Lengths of the vCPUs' preempted intervals (switched out runnable → back on a pCPU) that ended in the window.</summary>
    public DurationSpread PreemptedIntervals { get; init; }

    /// <summary>Its vCPUs' blocked waits that ended in the window, by what ended them (the sum of <see cref="VcpuMetrics.WaitCauses"/>).</summary>
    public WaitCauses WaitCauses { get; init; }

    /// <summary>Its vCPUs' guest time by guest mode at entry (the sum of <see cref="VcpuMetrics.GuestModes"/>).</summary>
    public GuestModes GuestModes { get; init; }

    /// <summary>Its guest time by guest address space (CR3 at entry): the top <see cref="GuestSpace.Top"/>, then "other".</summary>
    public IReadOnlyList<GuestSpace> GuestSpaces { get; init; } = [];
    /// <summary>The L2 guests its vCPUs ran (nested virtualisation), with their vCPUs' time by state; empty when none.</summary>
    public IReadOnlyList<NestedGuestMetrics> Nested { get; init; } = [];
}
