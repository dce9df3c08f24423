namespace Vmtrace.Bench;

/// <summary>One row of the results table: a tool decoding one input.</summary>
internal sealed record Measurement(string Input, string Tool, long? Events, double? Seconds)
{
    /// <summary>Best CPU seconds (user + system) of a run: the decoding thread, or the tool's process.</summary>
    public double? CpuSeconds { get; init; }
    /// <summary>Bytes allocated per event over a whole steady-state run, open included (vmtrace only).</summary>
    public double? BytesPerEvent { get; init; }
    /// <summary>Bytes allocated per event by the MoveNext loop alone (vmtrace only).</summary>
    public double? LoopBytesPerEvent { get; init; }
    /// <summary>The row this one is compared with (the reference tool on the same input), if any.</summary>
    public Measurement? Reference { get; init; }
    /// <summary>Why there is no figure, or what to know about it.</summary>
    public string Note { get; init; } = "";

    public double? EventsPerSecond => Events is long n && Seconds is double s && s > 0 ? n / s : null;

    /// <summary>How many times faster than the reference in wall time (events/s over events/s).</summary>
    public double? Ratio => EventsPerSecond is double mine && Reference?.EventsPerSecond is double theirs && theirs > 0 ? mine / theirs : null;

    /// <summary>How many times less CPU than the reference for the same input.</summary>
    public double? CpuRatio => CpuSeconds is double mine && mine > 0 && Reference?.CpuSeconds is double theirs ? theirs / mine : null;
}
