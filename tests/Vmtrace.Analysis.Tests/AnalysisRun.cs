using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Tests;

/// <summary>Test helper: runs a whole source through a <see cref="HostAnalysis"/> and returns every window and the total.</summary>
internal static class AnalysisRun
{
    /// <summary>Sees every event the analysis gets (for references computed in the same pass).</summary>
    public delegate void EventObserver(in TraceEvent e);

    public static (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total, HostAnalysis Analysis) Of(
        EventSource source, AnalysisOptions? options = null, IEnumerable<VmInventory>? inventory = null, long? endTime = null,
        EventObserver? observer = null)
    {
        var analysis = new HostAnalysis(options);
        analysis.AddThreadNames(source.InitialThreadNames);
        foreach (var vm in inventory ?? [])
            analysis.AddInventory(vm);
        var windows = new List<WindowMetrics>();
        long last = long.MinValue;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            observer?.Invoke(e);
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
        }
        analysis.Flush(endTime ?? last);
        windows.AddRange(analysis.TakeClosedWindows());
        return (windows, MetricsMerge.Total(windows), analysis);
    }
}
