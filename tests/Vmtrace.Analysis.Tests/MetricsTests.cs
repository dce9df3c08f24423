namespace Vmtrace.Analysis.Tests;

public class MetricsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(123_456_789)]
    [InlineData(1L << 40)]
    public void BucketOf_Value_LiesWithinItsBucketBounds(long ns)
    {
        int b = LatencyHistogram.BucketOf(ns);
        Assert.InRange(ns, LatencyHistogram.LowerBound(b), LatencyHistogram.UpperBound(b));
    }

    [Fact]
    public void Quantile_UniformValues_WithinBucketError()
    {
        var h = new LatencyHistogram();
        for (long v = 1; v <= 1000; v++)
            h.Add(v * 1000);
        Assert.InRange(h.Quantile(0.5), 500_000 * 0.875, 500_000 * 1.125);
        Assert.InRange(h.Quantile(0.95), 950_000 * 0.875, 950_000 * 1.125);
    }

    [Fact]
    public void Merge_TwoHistograms_EqualsOneFedEverything()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var all = new LatencyHistogram();
        for (int i = 0; i < 500; i++)
        {
            (i % 2 == 0 ? a : b).Add(i * 37L);
            all.Add(i * 37L);
        }
        a.Add(b);
        Assert.Equal(all.Counts.ToArray(), a.Counts.ToArray());
        Assert.Equal(all.TotalCount, a.TotalCount);
    }

    [Fact]
    public void IntervalStatsMerge_TwoHalves_EqualsSequential()
    {
        double[] gaps = [3, 9, 4, 12, 7, 1, 8];
        var whole = default(IntervalStats);
        foreach (var g in gaps) whole = whole.Add(g);
        var left = default(IntervalStats);
        var right = default(IntervalStats);
        foreach (var g in gaps[..3]) left = left.Add(g);
        foreach (var g in gaps[3..]) right = right.Add(g);
        var merged = left.Merge(right);
        Assert.Equal(whole.Count, merged.Count);
        Assert.Equal(whole.MeanNs, merged.MeanNs, 9);
        Assert.Equal(whole.VarianceNs2, merged.VarianceNs2, 9);
    }

    [Fact]
    public void Top_MoreCulpritsThanKept_SumsRestAsOther()
    {
        var top = MetricsMerge.Top([new("a", 5), new("b", 9), new("other", 1), new("c", 2), new("a", 1)], 2);
        Assert.Equal([new Interference("b", 9), new Interference("a", 6), new Interference("other", 3)], top);
    }
}
