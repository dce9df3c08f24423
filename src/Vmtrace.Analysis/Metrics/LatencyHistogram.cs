using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vmtrace.Analysis;

/// <summary>
/// A log-linear latency histogram in ns: exact below 16 ns, then 4 buckets per power of two (at most
/// 12.5 % error around a bucket's middle), up to 2^40 ns (18 min; larger values land in the last bucket).
/// Fixed bucket edges make two histograms mergeable by adding counts, so windows, vCPUs and hosts merge.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearBuckets = 16;
    private const int SubBuckets = 4;
    private const int MaxExponent = 40;
    public const int BucketCount = LinearBuckets + (MaxExponent - 4 + 1) * SubBuckets;

    private readonly long[] _counts;

    public LatencyHistogram()
    {
        _counts = new long[BucketCount];
    }

    private LatencyHistogram(long[] counts)
    {
        _counts = counts;
    }

    public long TotalCount { get; private set; }

    public ReadOnlySpan<long> Counts => _counts;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BucketOf(long ns)
    {
        if (ns < LinearBuckets)
            return ns < 0 ? 0 : (int)ns;
        int exp = 63 - BitOperations.LeadingZeroCount((ulong)ns);
        if (exp > MaxExponent)
            return BucketCount - 1;
        int sub = (int)(ns >> (exp - 2)) & (SubBuckets - 1);
        return LinearBuckets + (exp - 4) * SubBuckets + sub;
    }

    /// <summary>Smallest value of a bucket.</summary>
    public static long LowerBound(int bucket)
    {
        if (bucket < LinearBuckets)
            return bucket;
        int exp = (bucket - LinearBuckets) / SubBuckets + 4;
        int sub = (bucket - LinearBuckets) % SubBuckets;
        return (1L << exp) + ((long)sub << (exp - 2));
    }

    /// <summary>Largest value of a bucket.</summary>
    public static long UpperBound(int bucket) => bucket == BucketCount - 1 ? long.MaxValue : LowerBound(bucket + 1) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long ns)
    {
        _counts[BucketOf(ns)]++;
        TotalCount++;
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        TotalCount += other.TotalCount;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        TotalCount = 0;
    }

    /// <summary>Writes the non-empty buckets (index, count): most of a histogram is empty.</summary>
    internal void WriteTo(Checkpoint.SectionWriter w)
    {
        int used = 0;
        foreach (long c in _counts)
        {
            if (c != 0)
                used++;
        }
        w.Count(used);
        for (int i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                w.Count(i);
                w.Int64(_counts[i]);
            }
        }
    }

    internal static LatencyHistogram ReadFrom(Checkpoint.SectionReader r)
    {
        var h = new LatencyHistogram();
        int used = r.Count(9);
        for (int k = 0; k < used; k++)
        {
            int bucket = r.Index();
            if (bucket >= BucketCount)
                throw r.Damaged("histogram bucket " + bucket.ToString(System.Globalization.CultureInfo.InvariantCulture));
            long count = r.Int64();
            h._counts[bucket] = count;
            h.TotalCount += count;
        }
        return h;
    }

    public LatencyHistogram Clone() => new((long[])_counts.Clone()) { TotalCount = TotalCount };

    /// <summary>
    /// The value at quantile q (0..1): the middle of the bucket holding the q-th value, clamped to
    /// [min, max] when given (exact for the linear range). 0 when empty.
    /// </summary>
    public long Quantile(double q, long min = long.MinValue, long max = long.MaxValue)
    {
        if (TotalCount == 0)
            return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * TotalCount));
        if (rank >= TotalCount && max != long.MaxValue)
            return max; // the largest value is known exactly
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                long lo = LowerBound(i);
                long hi = i == BucketCount - 1 ? lo : UpperBound(i);
                long mid = lo + (hi - lo) / 2;
                return Math.Clamp(mid, min, Math.Max(min, max));
            }
        }
        return max;
    }
}
