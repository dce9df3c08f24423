namespace Vmtrace.Analysis;

/// <summary>
/// Count, mean and variance of the gaps between successive occurrences (submits, completions), by
/// Welford's method; two of them merge with Chan's formula, so windows merge exactly.
/// </summary>
public readonly record struct IntervalStats(long Count, double MeanNs, double M2)
{
    public double VarianceNs2 => Count > 1 ? M2 / (Count - 1) : 0;

    public IntervalStats Add(double gapNs)
    {
        long n = Count + 1;
        double delta = gapNs - MeanNs;
        double mean = MeanNs + delta / n;
        return new IntervalStats(n, mean, M2 + delta * (gapNs - mean));
    }

    public IntervalStats Merge(IntervalStats other)
    {
        if (other.Count == 0) return this;
        if (Count == 0) return other;
        long n = Count + other.Count;
        double delta = other.MeanNs - MeanNs;
        double mean = MeanNs + delta * other.Count / n;
        double m2 = M2 + other.M2 + delta * delta * Count * other.Count / n;
        return new IntervalStats(n, mean, m2);
    }
}
