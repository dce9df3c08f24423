namespace Vmtrace.Analysis;

/// <summary>
/// Count, sum and sum of squares of durations in ns, as exact integers: windows merge by addition, in any order, with
/// no rounding, and the spread comes from them at the end (<see cref="SampleVariance"/>). Durations are taken as they
/// come, with no allocation.
/// </summary>
public readonly record struct DurationSpread(long Count, long SumNs, Int128 SumSquaresNs2)
{
    public double MeanNs => Count == 0 ? 0 : (double)SumNs / Count;

    /// <summary>Sample variance (divided by n − 1), ns²; 0 below two durations.</summary>
    public double VarianceNs2 => SampleVariance(Count, SumNs, SumSquaresNs2);

    /// <summary>Sample standard deviation, ns: √<see cref="VarianceNs2"/>.</summary>
    public double StdDevNs => Math.Sqrt(VarianceNs2);

    public DurationSpread Add(long ns) => new(Count + 1, SumNs + ns, SumSquaresNs2 + (Int128)ns * ns);

    public DurationSpread Merge(DurationSpread other) =>
        new(Count + other.Count, SumNs + other.SumNs, SumSquaresNs2 + other.SumSquaresNs2);

    /// <summary>
    /// (n·Σx² − (Σx)²) / (n·(n − 1)): the numerator is exact in 128-bit integers while n·Σx² fits (durations up to
    /// minutes, billions of them); beyond that it is computed in floating point.
    /// </summary>
    public static double SampleVariance(long count, long sum, Int128 sumSquares)
    {
        if (count < 2)
            return 0;
        if (sumSquares <= Int128.MaxValue / count)
        {
            var numerator = count * sumSquares - (Int128)sum * sum;
            return (double)numerator / ((double)count * (count - 1));
        }
        double mean = (double)sum / count;
        return Math.Max(0, ((double)sumSquares - mean * sum) / (count - 1));
    }

    internal void WriteTo(Checkpoint.SectionWriter w)
    {
        w.Int64(Count);
        w.Int64(SumNs);
        WriteInt128(w, SumSquaresNs2);
    }

    internal static DurationSpread ReadFrom(Checkpoint.SectionReader r) => new(r.Int64(), r.Int64(), ReadInt128(r));

    internal static void WriteInt128(Checkpoint.SectionWriter w, Int128 value)
    {
        w.Int64((long)(ulong)value);
        w.Int64((long)(value >> 64));
    }

    internal static Int128 ReadInt128(Checkpoint.SectionReader r)
    {
        ulong low = (ulong)r.Int64();
        long high = r.Int64();
        return ((Int128)high << 64) | low;
    }
}
