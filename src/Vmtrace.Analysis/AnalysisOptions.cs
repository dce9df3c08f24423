namespace Vmtrace.Analysis;

/// <summary>Settings of one <see cref="HostAnalysis"/>. Every default is what <c>vmtrace analyze</c> uses.</summary>
public sealed class AnalysisOptions
{
    /// <summary>Length of the event-time tumbling windows, in ns. Default 1 s. Window starts are whole multiples of it.</summary>
    public long WindowNs { get; init; } = 1_000_000_000L;

    /// <summary>Number of physical CPUs, for the pCPU share; 0 = the highest CPU number seen plus one.</summary>
    public int CpuCount { get; init; }

    /// <summary>How many interferers each VM keeps per window (the rest are summed as "other"). Default 5.</summary>
    public int TopInterferers { get; init; } = 5;

    /// <summary>
    /// Start of the reported range (absolute ns), or null for the whole trace. Events before it still build
    /// the model (who runs where) but no window before it is reported; a window is cut exactly at it.
    /// </summary>
    public long? FromNs { get; init; }

    /// <summary>
    /// Longest gap between consecutive events that is analysed as time (its windows made, open intervals charged
    /// through it). A longer one is a time jump (a corrupt timestamp, a clock step): skipped and counted in
    /// <see cref="AnalysisCounters.TimeJumps"/>, so that one bad timestamp cannot make millions of windows.
    /// Default (null): one hour or 100,000 windows, whichever is shorter.
    /// </summary>
    public long? MaxGapNs { get; init; }

    /// <summary>
    /// Called with each exit the analysis pairs with its entry (the same exits its per-reason latencies count), for
    /// reports that need every latency (<see cref="KvmStatBuilder"/>). Null (the default) for the windowed metrics alone.
    /// </summary>
    public Action<HandledExit>? ExitHandled { get; init; }

    /// <summary>Windows a gap may span before it is a time jump, when <see cref="MaxGapNs"/> is not set.</summary>
    public const long DefaultMaxGapWindows = 100_000;

    /// <summary>One hour: the longest gap analysed as time when <see cref="MaxGapNs"/> is not set.</summary>
    public const long DefaultMaxGapNs = 3_600_000_000_000L;

    /// <summary>The gap limit in effect.</summary>
    public long EffectiveMaxGapNs => MaxGapNs ?? Math.Min(DefaultMaxGapNs, WindowNs > long.MaxValue / DefaultMaxGapWindows ? long.MaxValue : WindowNs * DefaultMaxGapWindows);

    public void Validate()
    {
        if (WindowNs <= 0)
            throw new ArgumentOutOfRangeException(nameof(WindowNs), WindowNs, "the window length must be positive");
        if (CpuCount < 0)
            throw new ArgumentOutOfRangeException(nameof(CpuCount), CpuCount, "the CPU count cannot be negative");
        if (MaxGapNs <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxGapNs), MaxGapNs, "the gap limit must be positive");
        if (TopInterferers < 1)
            throw new ArgumentOutOfRangeException(nameof(TopInterferers), TopInterferers, "keep at least one interferer");
    }
}
