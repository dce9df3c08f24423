using System.Diagnostics;
using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Bench;

/// <summary>
/// A steady stream for the pipeline benchmark: one trace, decoded once into memory, replayed <c>loops</c> times
/// with each pass shifted by the trace's span (rounded up to whole seconds, plus 1 s) so timestamps keep
/// increasing. The analysis sees the same threads again after a time jump: the figures are those of a long
/// run, not of a real host. With a probe it notes when the last event of each 1 s window was read.
/// </summary>
internal sealed class LoopedAgentSource(string hostId, ReplaySource replay, IReadOnlyList<VmInventory> vms, int loops, ReadProbe? probe) : IAgentSource
{
    public string HostId => hostId;

    public string Description => $"{hostId}: {replay.Count} events from memory × {loops}";

    public bool IsLive => false;

    public long Events => (long)replay.Count * loops;

    private volatile bool _stop;

    public EventSource Open() => new Looped(this, replay, loops, probe);

    /// <summary>Ends the stream after the current event (the agent then sends its session end as usual).</summary>
    public void Stop() => _stop = true;

    public WireInventory Inventory(EventSource opened)
    {
        var wireVms = vms.Select(v => new WireVm(v.Name, v.Pid, "", v.TapDevices.ToList(),
            v.Threads.Select(t => new WireVmThread(t.Tid, t.Comm)).ToList())).ToList();
        var names = replay.InitialThreadNames.OrderBy(kv => kv.Key).Select(kv => new WireThreadName(kv.Key, kv.Value)).ToList();
        return new WireInventory(wireVms, names);
    }

    private sealed class Looped(LoopedAgentSource owner, ReplaySource replay, int loops, ReadProbe? probe) : EventSource
    {
        private readonly long _shift = ShiftOf(replay);
        private int _loop;
        private bool _started;

        public override string Description => "looped replay";
        public override int CpuCount => replay.CpuCount;
        public override TraceClockKind Clock => TraceClockKind.Unknown;
        public override IReadOnlyDictionary<int, string> InitialThreadNames => replay.InitialThreadNames;

        public override bool MoveNext()
        {
            if (!_started)
            {
                replay.Rewind();
                replay.TimeShift = 0;
                _started = true;
            }
            if (owner._stop)
                return false;
            while (!replay.MoveNext())
            {
                if (++_loop >= loops)
                    return false;
                replay.Rewind();
                replay.TimeShift = _loop * _shift;
            }
            probe?.Read(replay.CurrentTimestamp);
            return true;
        }

        public override TraceEvent Current => replay.Current;

        private static long ShiftOf(ReplaySource r)
        {
            long span = r.LastTimestamp - r.FirstTimestamp;
            return (span / 1_000_000_000 + 2) * 1_000_000_000;
        }
    }
}

/// <summary>
/// Wall time (Stopwatch ticks) at which the agent read the last event of each 1 s event-time window (windows
/// are aligned to whole seconds, as the analysis aligns them). Written by the agent thread only; read after the run.
/// </summary>
internal sealed class ReadProbe(long windowNs)
{
    private readonly Dictionary<long, long> _lastRead = [];
    private long _window = long.MinValue;
    private long _ticks;

    public IReadOnlyDictionary<long, long> LastReadTicks => _lastRead;

    public void Read(long timestamp)
    {
        long now = Stopwatch.GetTimestamp();
        long w = timestamp - (((timestamp % windowNs) + windowNs) % windowNs);
        if (w != _window && _window != long.MinValue)
            _lastRead[_window] = _ticks;
        _window = w;
        _ticks = now;
    }

    /// <summary>The open window's last event, once the stream ended.</summary>
    public void End()
    {
        if (_window != long.MinValue)
            _lastRead[_window] = _ticks;
    }
}
