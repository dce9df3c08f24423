namespace Vmtrace.Analysis;

/// <summary>Mutable per-window disk figures of one VM at one layer. In-flight and the last submit/complete times persist across windows.</summary>
internal sealed class DiskLayerAccumulator
{
    public long Submitted;
    public long Completed;
    public long ReadRequests;
    public long WriteRequests;
    public long ReadBytes;
    public long WriteBytes;
    public readonly LatencyAccumulator Latency = new();
    public IntervalStats SubmitIntervals;
    public IntervalStats CompleteIntervals;
    public long InFlight;
    public long MaxInFlight;
    private long _lastSubmit = -1;
    private long _lastComplete = -1;

    public void OnSubmit(long now)
    {
        Submitted++;
        if (_lastSubmit >= 0)
            SubmitIntervals = SubmitIntervals.Add(now - _lastSubmit);
        _lastSubmit = now;
        InFlight++;
        if (InFlight > MaxInFlight)
            MaxInFlight = InFlight;
    }

    /// <param name="direction">1 read, 2 write, 0 other (flush, discard, unknown).</param>
    public void OnComplete(long now, long latencyNs, int direction, long bytes)
    {
        Completed++;
        if (_lastComplete >= 0)
            CompleteIntervals = CompleteIntervals.Add(now - _lastComplete);
        _lastComplete = now;
        if (InFlight > 0)
            InFlight--;
        Latency.Add(latencyNs);
        if (direction == 1)
        {
            ReadRequests++;
            ReadBytes += bytes;
        }
        else if (direction == 2)
        {
            WriteRequests++;
            WriteBytes += bytes;
        }
    }

    public bool IsEmpty => Submitted == 0 && Completed == 0 && InFlight == 0;

    public DiskLayerMetrics Snapshot() => new(Submitted, Completed, ReadRequests, WriteRequests, ReadBytes, WriteBytes,
        Latency.Snapshot(), SubmitIntervals, CompleteIntervals, InFlight, MaxInFlight);

    public void WriteTo(Checkpoint.SectionWriter w)
    {
        w.Int64(Submitted);
        w.Int64(Completed);
        w.Int64(ReadRequests);
        w.Int64(WriteRequests);
        w.Int64(ReadBytes);
        w.Int64(WriteBytes);
        Latency.WriteTo(w);
        WriteIntervals(w, SubmitIntervals);
        WriteIntervals(w, CompleteIntervals);
        w.Int64(InFlight);
        w.Int64(MaxInFlight);
        w.Int64(_lastSubmit);
        w.Int64(_lastComplete);
    }

    public void ReadFrom(Checkpoint.SectionReader r)
    {
        Submitted = r.Int64();
        Completed = r.Int64();
        ReadRequests = r.Int64();
        WriteRequests = r.Int64();
        ReadBytes = r.Int64();
        WriteBytes = r.Int64();
        Latency.ReadFrom(r);
        SubmitIntervals = ReadIntervals(r);
        CompleteIntervals = ReadIntervals(r);
        InFlight = r.Int64();
        MaxInFlight = r.Int64();
        _lastSubmit = r.Int64();
        _lastComplete = r.Int64();
    }

    internal static void WriteIntervals(Checkpoint.SectionWriter w, IntervalStats s)
    {
        w.Int64(s.Count);
        w.Double(s.MeanNs);
        w.Double(s.M2);
    }

    internal static IntervalStats ReadIntervals(Checkpoint.SectionReader r) => new(r.Int64(), r.Double(), r.Double());

    public void ClearWindow()
    {
        Submitted = Completed = ReadRequests = WriteRequests = ReadBytes = WriteBytes = 0;
        Latency.Clear();
        SubmitIntervals = default;
        CompleteIntervals = default;
        MaxInFlight = InFlight;
    }
}
