using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// Everything <c>vmtrace analyze</c> prints: the windows, their total, and how the reading and the analysis went.
/// With a <see cref="TraceClockKind.Cycles"/> clock every time and duration (the "ns" figures) counts TSC cycles.
/// </summary>
internal sealed record AnalysisReport(
    string Trace, string Host, long WindowNs, long Events, long FirstNs, long LastNs, IReadOnlyList<WindowMetrics> Windows,
    WindowMetrics Total, AnalysisCounters Counters, SourceDiagnostics Diagnostics, string? Inventory,
    TraceClockKind Clock = TraceClockKind.Unknown, string ClockName = "unknown")
{
    public bool InCycles => Clock == TraceClockKind.Cycles;

    /// <summary>The fused analysis of each <c>--guest</c>, in the order given; null without --guest.</summary>
    public IReadOnlyList<GuestReport>? Guests { get; init; }

    /// <summary>Where the range analysed ends (the flush time: the last event, or --to): the guest threads' points carry it.</summary>
    public long RangeEndNs { get; init; }

    /// <summary>Said when an input is recognised as a guest's trace given without --guest (analysed as given, not merged).</summary>
    public string? GuestNotice { get; init; }

    /// <summary>The interference episodes, in the order they closed (docs/metrics.md, "Interference episodes").</summary>
    public IReadOnlyList<Episode> Episodes { get; init; } = [];

    /// <summary>The episodes worst first: highest severity, then earliest, then by VM and resource.</summary>
    public IEnumerable<Episode> EpisodesWorstFirst => Episodes.OrderByDescending(e => e.Severity).ThenBy(e => e.StartNs)
        .ThenBy(e => e.Vm, StringComparer.Ordinal).ThenBy(e => e.Resource, StringComparer.Ordinal);

    /// <summary>What every time of the report counts, when it is not ns.</summary>
    public string CyclesNotice =>
        $"{Trace}: clock '{ClockName}': the trace holds no TSC2NSEC conversion, so every time and duration is in TSC cycles, not ns (window = --window in cycles)";

    /// <summary>A duration in the report's unit.</summary>
    public string Duration(double value) => InCycles ? Units.Cycles(value) : Units.Duration(value);

    /// <summary>The unit of a time axis counted in 10⁹ of the report's unit.</summary>
    public string AxisUnit => InCycles ? " Gcyc" : " s";

    /// <summary>A point in time in the report's unit.</summary>
    public string Time(long value) => InCycles ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) + " cyc" : Units.Seconds(value);
}
