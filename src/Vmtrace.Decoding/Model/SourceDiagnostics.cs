namespace Vmtrace.Decoding;

/// <summary>
/// What a reader had to give up on: nothing is lost silently. Counters only grow.
/// </summary>
public sealed class SourceDiagnostics
{
    private const int MaxKeptErrors = 100;
    private readonly List<TraceFormatException> _errors = [];

    /// <summary>Events the tracer says it dropped (CTF events_discarded, ftrace lost-events flags and counts).</summary>
    public long LostEvents { get; private set; }
    /// <summary>Places where the tracer reported a loss (some report a loss without a count).</summary>
    public long LossReports { get; private set; }
    /// <summary>Packets missing by sequence number (CTF packet_seq_num gaps).</summary>
    public long LostPackets { get; private set; }
    /// <summary>Bytes skipped because they could not be decoded.</summary>
    public long SkippedBytes { get; private set; }
    /// <summary>Format errors met (corrupt packet, page, section...); the first ones are kept in <see cref="Errors"/>.</summary>
    public long ErrorCount { get; private set; }
    /// <summary>Events whose timestamp went backwards and were delivered as read.</summary>
    public long OutOfOrderEvents { get; private set; }

    public IReadOnlyList<TraceFormatException> Errors => _errors;

    public void AddLostEvents(long count)
    {
        LostEvents += count;
        LossReports++;
    }

    public void AddLostPackets(long count) => LostPackets += count;

    public void AddOutOfOrder() => OutOfOrderEvents++;

    /// <summary>Records a decoding error and the span skipped because of it.</summary>
    public void AddError(TraceFormatException error, long skippedBytes)
    {
        ErrorCount++;
        SkippedBytes += skippedBytes;
        if (_errors.Count < MaxKeptErrors)
            _errors.Add(error);
    }

    /// <summary>Adds another source's counters (for merged sources).</summary>
    public void Add(SourceDiagnostics other) => Add(other, static e => e);

    /// <summary>Adds another source's counters, rewriting its kept errors (e.g. to name the original archive).</summary>
    public void Add(SourceDiagnostics other, Func<TraceFormatException, TraceFormatException> mapError)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(mapError);
        LostEvents += other.LostEvents;
        LossReports += other.LossReports;
        LostPackets += other.LostPackets;
        SkippedBytes += other.SkippedBytes;
        ErrorCount += other.ErrorCount;
        OutOfOrderEvents += other.OutOfOrderEvents;
        foreach (var e in other._errors)
        {
            if (_errors.Count < MaxKeptErrors)
                _errors.Add(mapError(e));
        }
    }

    public bool IsClean => LostEvents == 0 && LossReports == 0 && LostPackets == 0 && SkippedBytes == 0 && ErrorCount == 0;
}
