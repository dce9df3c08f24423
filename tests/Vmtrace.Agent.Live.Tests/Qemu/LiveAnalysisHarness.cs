using System.Collections.Concurrent;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;

namespace Vmtrace.Agent.Live.Tests.Qemu;

/// <summary>
/// A live source feeding the analysis on its own thread, as the agent and the worker do, with the inventory
/// records a test queues applied in stream order.
/// </summary>
internal sealed class LiveAnalysisThread
{
    private readonly LiveEventSource _source;
    private readonly ConcurrentQueue<VmInventory> _inventory = new();
    private readonly Thread _thread;
    private readonly long _boundaryNs;
    private readonly ConcurrentDictionary<long, Dictionary<int, long>> _waitStarts = new();
    private long _lastBoundary = long.MinValue;
    private long _events;
    private Exception? _error;

    /// <param name="boundaryNs">The analysis window: at each boundary the vCPU threads' waits in progress are noted (<see cref="WaitInProgress"/>).</param>
    public LiveAnalysisThread(LiveEventSource source, HostAnalysis analysis, long boundaryNs)
    {
        _boundaryNs = boundaryNs;
        _source = source;
        Analysis = analysis;
        analysis.AddThreadNames(source.InitialThreadNames);
        _thread = new Thread(Run) { IsBackground = true, Name = "analysis" };
        _thread.Start();
    }

    public HostAnalysis Analysis { get; }

    public long Events => Interlocked.Read(ref _events);

    public void AddInventory(VmInventory vm) => _inventory.Enqueue(vm);

    /// <summary>
    /// The run-queue wait of vCPU thread <paramref name="tid"/> in progress at <paramref name="boundary"/>, in the kernel's
    /// books: schedstat adds a wait to run_delay when it ends, so a sample read during one lacks it, and the sample
    /// after it has it all. Between two samples the kernel's figure is the trace's, minus the wait in progress at the
    /// second, plus the one at the first.
    /// </summary>
    public long WaitInProgress(long boundary, int tid) =>
        _waitStarts.TryGetValue(boundary, out var starts) && starts.TryGetValue(tid, out long since) ? boundary - since : 0;

    /// <summary>Stops the source, waits for the analysis to drain it, and closes every window.</summary>
    public IReadOnlyList<WindowMetrics> StopAndFlush()
    {
        _source.RequestStop();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(60)), "analysis thread did not finish");
        Assert.Null(_error);
        Analysis.Flush(Analysis.Now);
        return Analysis.TakeClosedWindows();
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                while (_inventory.TryDequeue(out var inv))
                    Analysis.AddInventory(inv);
                var r = _source.TryMoveNext(TimeSpan.FromMilliseconds(50));
                if (r == LiveReadResult.End)
                    break;
                if (r == LiveReadResult.Event)
                {
                    var ev = _source.Current;
                    long boundary = ev.Timestamp / _boundaryNs * _boundaryNs;
                    if (boundary > _lastBoundary)
                    {
                        // Before the first event at or after the boundary: the state at the boundary.
                        if (_lastBoundary != long.MinValue)
                            _waitStarts[boundary] = Analysis.RunDelayStarts();
                        _lastBoundary = boundary;
                    }
                    Analysis.OnEvent(ev);
                    Interlocked.Increment(ref _events);
                }
                else if (_source.Watermark > long.MinValue)
                {
                    Analysis.AdvanceWatermark(_source.Watermark);
                }
            }
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }
}

/// <summary>schedstat read at analysis window boundaries, so the trace's windows and the kernel's counters cover the same time.</summary>
internal static class SchedstatOnBoundary
{
    /// <summary>
    /// Waits for the next window boundary (realtime, the trace's time scale), reads schedstat, marks the trace.
    /// ReadNs: how long after the boundary the read ended.
    /// </summary>
    public static (long At, Dictionary<int, ThreadSchedstat> Sample, long ReadNs) Take(TracefsEventSource source, IEnumerable<int> pids, string label, long windowNs)
    {
        // The whole wait runs SCHED_FIFO: a normal thread on this loaded host wakes from a sleep tens of ms late,
        // and a sample read late but filed under the boundary is a systematic error. A sample that still ends
        // more than 2 ms after its boundary is taken again at the next one.
        long boundary = 0, end = 0;
        Dictionary<int, ThreadSchedstat> sample = [];
        for (int attempt = 0; attempt < 10; attempt++)
        {
            boundary = (source.NowRealtime() / windowNs + 2) * windowNs;
            (sample, end) = SchedstatSample.AtRealtimePriority(() =>
            {
                while (source.NowRealtime() < boundary - 3_000_000)
                    Thread.Sleep(1);
                while (source.NowRealtime() < boundary)
                {
                }
                var s = SchedstatSample.Read(pids);
                return (s, source.NowRealtime());
            });
            if (end - boundary < 2_000_000)
                break;
        }
        source.Mark($"vmtrace_schedstat {label} boundary={boundary} read_ns={end - boundary}");
        return (boundary, sample, end - boundary);
    }

    /// <summary>Signed difference of the trace's figure from the kernel's, in percent.</summary>
    public static double Diff(long trace, long kernel) => kernel == 0 ? (trace == 0 ? 0 : 100) : 100.0 * (trace - kernel) / kernel;
}
