using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>Everything <c>vmtrace analyze</c> prints: the windows, their total, and how the reading and the analysis went.</summary>
internal sealed record AnalysisReport(
    string Trace, string Host, long WindowNs, long Events, long FirstNs, long LastNs, IReadOnlyList<WindowMetrics> Windows,
    WindowMetrics Total, AnalysisCounters Counters, SourceDiagnostics Diagnostics, string? Inventory);
