using Vmtrace.Agent;
using Vmtrace.Agent.Live;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Worker;

namespace Vmtrace.Cli;

/// <summary>
/// Where the refreshes of <c>vmtrace top</c> come from: the analysis core fed a recorded trace (paced at a speed, as the
/// agent's replay is) or the host's tracefs, with a window of the refresh interval. Each closed window is one refresh,
/// so its figures are <c>analyze --window</c>'s; with it come the interference episodes that closed by its end.
/// </summary>
internal static class TopFeed
{
    /// <summary>
    /// Replays <paramref name="inputs"/> (merged by time, as <c>analyze</c> merges them); <paramref name="speed"/> 0 is as
    /// fast as possible, 1 the recorded pace. Every window is shown, the last one ending at the last event.
    /// </summary>
    public static SourceDiagnostics Replay(IReadOnlyList<string> inputs, IReadOnlyList<VmInventory> inventory, long windowNs,
        double speed, TimeProvider time, CancellationToken cancellation, Action<WindowMetrics> show) =>
        Replay(inputs, inventory, windowNs, speed, time, cancellation, (w, _) => show(w));

    /// <summary>As <see cref="Replay(IReadOnlyList{string}, IReadOnlyList{VmInventory}, long, double, TimeProvider, CancellationToken, Action{WindowMetrics})"/>, each window with the episodes that closed with it.</summary>
    public static SourceDiagnostics Replay(IReadOnlyList<string> inputs, IReadOnlyList<VmInventory> inventory, long windowNs,
        double speed, TimeProvider time, CancellationToken cancellation, Action<WindowMetrics, IReadOnlyList<Episode>> show)
    {
        using var source = TraceOpener.OpenAll(inputs);
        var pacing = new AgentPacing(new AgentOptions { Speed = speed }, time);
        HostAnalysis? analysis = null;
        long last = 0;
        pacing.StartReplay();
        while (!cancellation.IsCancellationRequested && source.MoveNext())
        {
            var e = source.Current;
            if (analysis is null)
            {
                analysis = new HostAnalysis(new AnalysisOptions { WindowNs = windowNs, CpuCount = source.CpuCount });
                analysis.AddThreadNames(source.InitialThreadNames);
                foreach (var vm in inventory)
                    analysis.AddInventory(vm);
            }
            if (pacing.MustWaitFor(e.Timestamp, out long due))
                pacing.WaitUntil(due, cancellation);
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            ShowClosed(analysis, show);
        }
        if (analysis is not null && !cancellation.IsCancellationRequested)
        {
            analysis.Flush(last);
            ShowClosed(analysis, show);
        }
        return TraceOpener.DiagnosticsOf(source);
    }

    /// <summary>The windows just closed, the episodes that closed with them going with the last.</summary>
    private static void ShowClosed(HostAnalysis analysis, Action<WindowMetrics, IReadOnlyList<Episode>> show)
    {
        var closed = analysis.TakeClosedWindows();
        if (closed.Count == 0)
            return;
        var episodes = analysis.TakeClosedEpisodes();
        for (int i = 0; i < closed.Count; i++)
            show(closed[i], i == closed.Count - 1 ? episodes : []);
    }

    /// <summary>
    /// Follows the host through its own ftrace instance (as <c>vmtrace agent</c> live does: root and tracefs needed) until
    /// <paramref name="cancellation"/>, or after the first full window when <paramref name="once"/>. The first window
    /// began before tracing did: it is not shown. VMs are looked for in /proc at every refresh.
    /// </summary>
    public static void Live(LiveOptions options, long windowNs, bool once, TimeProvider time, CancellationToken cancellation,
        Action<WindowMetrics, IReadOnlyList<Episode>> show)
    {
        var host = new LiveHostSource(options, time);
        using var opened = host.Open();
        var live = (ILiveEventSource)opened;
        using var stop = cancellation.Register(live.RequestStop);
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = windowNs, CpuCount = Environment.ProcessorCount });
        InventoryMapping.Apply(analysis, host.Inventory(opened));
        bool partial = true, started = false;
        long openStart = 0;
        while (true)
        {
            var read = live.TryMoveNext(TimeSpan.FromMilliseconds(100));
            if (read == LiveReadResult.End)
                return;
            if (read == LiveReadResult.Event)
                analysis.OnEvent(opened.Current);
            else
                analysis.AdvanceWatermark(live.Watermark);
            if (!started && analysis.Now != 0)
            {
                started = true;
                openStart = analysis.OpenWindowStart;
            }
            var closed = analysis.TakeClosedWindows();
            var episodes = analysis.TakeClosedEpisodes();
            // A window with no VM in it is not emitted by the analysis; the view still refreshes (an empty host).
            if (closed.Count == 0 && started && analysis.OpenWindowStart != openStart)
                closed = [new WindowMetrics(openStart, analysis.OpenWindowStart, Environment.ProcessorCount, [])];
            if (started)
                openStart = analysis.OpenWindowStart;
            if (closed.Count == 0)
                continue;
            for (int i = 0; i < closed.Count; i++)
            {
                if (partial)
                {
                    partial = false;
                    continue;
                }
                show(closed[i], i == closed.Count - 1 ? episodes : []);
                if (once)
                    return;
            }
            InventoryMapping.Apply(analysis, host.Inventory(opened));
        }
    }
}
