namespace Vmtrace.Analysis;

/// <summary>Mutable per-window latency statistics (an exit reason on a vCPU, a VM's disk requests). Reused window after window.</summary>
internal sealed class LatencyAccumulator
{
    public long Count;
    public long SumNs;
    public long MinNs = long.MaxValue;
    public long MaxNs;
    public Int128 SumSquaresNs2;
    public readonly LatencyHistogram Histogram = new();

    public void WriteTo(Checkpoint.SectionWriter w)
    {
        w.Int64(Count);
        w.Int64(SumNs);
        w.Int64(MinNs);
        w.Int64(MaxNs);
        DurationSpread.WriteInt128(w, SumSquaresNs2);
        Histogram.WriteTo(w);
    }

    public void ReadFrom(Checkpoint.SectionReader r)
    {
        Count = r.Int64();
        SumNs = r.Int64();
        MinNs = r.Int64();
        MaxNs = r.Int64();
        SumSquaresNs2 = DurationSpread.ReadInt128(r);
        Histogram.Clear();
        Histogram.Add(LatencyHistogram.ReadFrom(r));
    }

    public void Add(long latencyNs)
    {
        Count++;
        SumNs += latencyNs;
        // Below 2^32 ns (4.3 s) the square fits 64 bits unsigned: the same sum without the 128-bit multiply.
        if ((ulong)latencyNs < 1UL << 32)
            SumSquaresNs2 += (ulong)latencyNs * (ulong)latencyNs;
        else
            SumSquaresNs2 += (Int128)latencyNs * latencyNs;
        if (latencyNs < MinNs) MinNs = latencyNs;
        if (latencyNs > MaxNs) MaxNs = latencyNs;
        Histogram.Add(latencyNs);
    }

    public LatencyMetrics Snapshot() =>
        new(Count, SumNs, Count == 0 ? 0 : MinNs, MaxNs, Histogram.Clone()) { SumSquaresNs2 = SumSquaresNs2 };

    public void Clear()
    {
        Count = 0;
        SumNs = 0;
        SumSquaresNs2 = 0;
        MinNs = long.MaxValue;
        MaxNs = 0;
        Histogram.Clear();
    }
}
