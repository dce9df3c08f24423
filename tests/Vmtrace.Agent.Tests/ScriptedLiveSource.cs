using System.Text;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>
/// A live source that plays a script with no clock: events, idle reads at a given watermark, actions (such as
/// cancelling the pipeline). Once the script is over it stays idle until <see cref="RequestStop"/>, then
/// delivers its drain events (what a tracer's buffers still hold at a stop) and ends.
/// </summary>
internal sealed class ScriptedLiveSource : EventSource, ILiveEventSource, IAgentSource
{
    public static readonly EventType Switch = new("sched_switch",
    [
        new("prev_comm", FieldKind.String), new("prev_pid", FieldKind.Signed), new("prev_prio", FieldKind.Signed),
        new("prev_state", FieldKind.Signed), new("next_comm", FieldKind.String), new("next_pid", FieldKind.Signed),
        new("next_prio", FieldKind.Signed),
    ], "sched");

    private readonly List<(long Ts, int Cpu, int PrevTid, int NextTid, long Watermark, Action? Action)> _steps = [];
    private readonly List<(long Ts, int Cpu, int PrevTid, int NextTid)> _drain = [];
    private readonly Dictionary<int, string> _execFiles = [];
    private EventType _currentType = Switch;
    private readonly List<WireInventory> _inventories = [];
    private readonly EventRecordBuffer _buffer = new();
    private (long Ts, int Cpu, int PrevTid) _current;
    private int _step, _drained, _idleAfterScript, _inventoryCalls;
    private volatile bool _stopRequested;

    public string HostId => "scripted-host";

    public bool IsLive => true;

    public override string Description => "scripted live";

    public override int CpuCount => 2;

    public override TraceClockKind Clock => TraceClockKind.Realtime;

    public long Watermark { get; private set; } = long.MinValue;

    public bool StopRequested => _stopRequested;

    /// <summary>Whether the source was disposed (a live source's dispose removes its ftrace instance).</summary>
    public bool Disposed { get; private set; }

    public static readonly EventType Exec = new("sched_process_exec",
        [new("filename", FieldKind.String), new("pid", FieldKind.Signed), new("old_pid", FieldKind.Signed)], "sched");

    public override TraceEvent Current => _buffer.View(_current.Ts, _current.Cpu, _current.PrevTid, _currentType);

    public ScriptedLiveSource Event(long ts, int cpu, int prevTid, int nextTid)
    {
        _steps.Add((ts, cpu, prevTid, nextTid, 0, null));
        return this;
    }

    /// <summary>Thread <paramref name="tid"/> executes <paramref name="filename"/> (a sched_process_exec event).</summary>
    public ScriptedLiveSource ExecEvent(long ts, int cpu, int tid, string filename)
    {
        _execFiles[_steps.Count] = filename;
        _steps.Add((ts, cpu, tid, tid, 0, null));
        return this;
    }

    /// <summary>An idle read: nothing to release, the source has got to <paramref name="watermark"/>.</summary>
    public ScriptedLiveSource Idle(long watermark)
    {
        _steps.Add((0, 0, 0, 0, watermark, null));
        return this;
    }

    public ScriptedLiveSource Then(Action action)
    {
        _steps.Add((0, 0, 0, 0, 0, action));
        return this;
    }

    /// <summary>An event released only after a stop was requested.</summary>
    public ScriptedLiveSource Drain(long ts, int cpu, int prevTid, int nextTid)
    {
        _drain.Add((ts, cpu, prevTid, nextTid));
        return this;
    }

    /// <summary>The inventories the source answers with, one per call; the last one repeats.</summary>
    public ScriptedLiveSource Inventories(params WireInventory[] inventories)
    {
        _inventories.AddRange(inventories);
        return this;
    }

    public int InventoryCalls => _inventoryCalls;

    public EventSource Open() => this;

    public WireInventory Inventory(EventSource opened)
    {
        var answer = _inventories.Count == 0 ? new WireInventory([], []) : _inventories[Math.Min(_inventoryCalls, _inventories.Count - 1)];
        _inventoryCalls++;
        return answer;
    }

    public LiveReadResult TryMoveNext(TimeSpan maxWait)
    {
        while (_step < _steps.Count)
        {
            int index = _step;
            var s = _steps[_step++];
            if (s.Action is { } action)
            {
                action();
                continue;
            }
            if (s.Ts == 0)
            {
                Watermark = s.Watermark;
                return LiveReadResult.Idle;
            }
            if (_execFiles.TryGetValue(index, out var file))
                LoadExec(s.Ts, s.Cpu, s.PrevTid, file);
            else
                Load(s.Ts, s.Cpu, s.PrevTid, s.NextTid);
            return LiveReadResult.Event;
        }
        if (!_stopRequested)
        {
            // A pipeline that never stops would spin here for ever: fail instead.
            if (++_idleAfterScript > 100_000)
                throw new InvalidOperationException("the script is over and the pipeline never asked the source to stop");
            return LiveReadResult.Idle;
        }
        if (_drained < _drain.Count)
        {
            var d = _drain[_drained++];
            Load(d.Ts, d.Cpu, d.PrevTid, d.NextTid);
            return LiveReadResult.Event;
        }
        return LiveReadResult.End;
    }

    public override bool MoveNext() => throw new InvalidOperationException("a live pipeline must not block in MoveNext");

    public void RequestStop() => _stopRequested = true;

    public SourceDiagnostics CollectDiagnostics() => Diagnostics;

    private void LoadExec(long ts, int cpu, int tid, string filename)
    {
        _current = (ts, cpu, tid);
        _currentType = Exec;
        _buffer.Reset(Exec);
        _buffer.SetString(0, Encoding.UTF8.GetBytes(filename));
        _buffer.SetInt(1, tid);
        _buffer.SetInt(2, tid);
    }

    private void Load(long ts, int cpu, int prevTid, int nextTid)
    {
        _current = (ts, cpu, prevTid);
        _currentType = Switch;
        _buffer.Reset(Switch);
        _buffer.SetString(0, Encoding.UTF8.GetBytes("t" + prevTid));
        _buffer.SetInt(1, prevTid);
        _buffer.SetInt(2, 120);
        _buffer.SetInt(3, 0);
        _buffer.SetString(4, Encoding.UTF8.GetBytes("t" + nextTid));
        _buffer.SetInt(5, nextTid);
        _buffer.SetInt(6, 120);
    }

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
