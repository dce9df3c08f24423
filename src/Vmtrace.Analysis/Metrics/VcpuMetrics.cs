namespace Vmtrace.Analysis;

/// <summary>One vCPU of one VM in one window. <see cref="Tid"/> is the host thread last seen running it.</summary>
public sealed record VcpuMetrics(int VcpuId, int Tid, CpuTimes Times, IReadOnlyList<ExitMetrics> Exits)
{
    public VcpuMetrics Merge(VcpuMetrics other) =>
        new(VcpuId, other.Tid, Times.Add(other.Times), MetricsMerge.Exits(Exits, other.Exits));
}
