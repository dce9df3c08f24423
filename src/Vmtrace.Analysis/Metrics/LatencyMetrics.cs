namespace Vmtrace.Analysis;

/// <summary>Count, sum, sum of squares, min, max and a mergeable histogram of latencies in ns, with p50/p95/p99 estimates and the standard deviation.</summary>
public sealed record LatencyMetrics(long Count, long SumNs, long MinNs, long MaxNs, LatencyHistogram Histogram)
{
    public static LatencyMetrics Empty => new(0, 0, 0, 0, new LatencyHistogram());

    /// <summary>Σ latency², exact (see <see cref="DurationSpread"/>).</summary>
    public Int128 SumSquaresNs2 { get; init; }

    /// <summary>Sample standard deviation of the latencies, ns (0 below two).</summary>
    public double StdDevNs => Math.Sqrt(DurationSpread.SampleVariance(Count, SumNs, SumSquaresNs2));

    public double MeanNs => Count == 0 ? 0 : (double)SumNs / Count;
    public long P50Ns => Histogram.Quantile(0.50, MinNs, MaxNs);
    public long P95Ns => Histogram.Quantile(0.95, MinNs, MaxNs);
    public long P99Ns => Histogram.Quantile(0.99, MinNs, MaxNs);

    public LatencyMetrics Merge(LatencyMetrics other)
    {
        if (other.Count == 0) return this;
        if (Count == 0) return other;
        var h = Histogram.Clone();
        h.Add(other.Histogram);
        return new LatencyMetrics(Count + other.Count, SumNs + other.SumNs, Math.Min(MinNs, other.MinNs), Math.Max(MaxNs, other.MaxNs), h)
        {
            SumSquaresNs2 = SumSquaresNs2 + other.SumSquaresNs2,
        };
    }
}
