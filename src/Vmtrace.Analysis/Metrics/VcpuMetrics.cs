namespace Vmtrace.Analysis;

/// <summary>One vCPU of one VM in one window. <see cref="Tid"/> is the host thread last seen running it.</summary>
public sealed record VcpuMetrics(int VcpuId, int Tid, CpuTimes Times, IReadOnlyList<ExitMetrics> Exits)
{
    /// <summary>Its blocked waits that ended in the window, by what ended them.</summary>
    public WaitCauses WaitCauses { get; init; }

    /// <summary>Its guest time by guest mode at entry.</summary>
    public GuestModes GuestModes { get; init; }

    public VcpuMetrics Merge(VcpuMetrics other) =>
        new(VcpuId, other.Tid, Times.Add(other.Times), MetricsMerge.Exits(Exits, other.Exits)) { WaitCauses = WaitCauses.Add(other.WaitCauses), GuestModes = GuestModes.Add(other.GuestModes) };
}
