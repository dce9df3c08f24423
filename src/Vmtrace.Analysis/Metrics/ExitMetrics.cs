namespace Vmtrace.Analysis;

/// <summary>VM exits of one reason: how many were handled and their handling latency (exit → next entry on the same thread).</summary>
public sealed record ExitMetrics(int Reason, LatencyMetrics Latency)
{
    public ExitMetrics Merge(ExitMetrics other) => this with { Latency = Latency.Merge(other.Latency) };
}
