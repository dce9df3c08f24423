using Vmtrace.Decoding;

namespace Vmtrace.Agent.Live;

/// <summary>
/// Merges live sources (the tracefs source, qemu log followers, LTTng chunk readers) into one ordered
/// stream (the decoders' <see cref="TimeOrderedMerge"/>): the earliest ready event is released once it is at or before
/// every other input's <see cref="LiveEventSource.Watermark"/>. Inputs may be added while running (a VM started: its qemu log);
/// their events older than what was already released are delivered late and counted as out of order.
/// Owns and disposes its inputs.
/// </summary>
public sealed class LiveMergedSource : LiveEventSource
{
    private readonly List<LiveEventSource> _inputs = [];
    private readonly List<bool> _ready = [];
    private readonly List<bool> _ended = [];
    private readonly TimeOrderedMerge _merge = new(4);
    private int _current = -1;
    private long _lastReleased = long.MinValue;
    private bool _stopForwarded;

    /// <param name="time">The clock of a read's wait (tests pass a fake one; the inputs keep their own clocks).</param>
    public LiveMergedSource(IEnumerable<LiveEventSource> inputs, TimeSpan pollInterval, TimeProvider? time = null)
        : base(new LivePoll(pollInterval, time))
    {
        foreach (var i in inputs)
            Add(i);
    }

    public IReadOnlyList<LiveEventSource> Inputs => _inputs;

    public override string Description => string.Join(" + ", _inputs.Select(i => i.Description));

    public override int CpuCount => _inputs.Count == 0 ? 0 : _inputs.Max(i => i.CpuCount);

    public override IReadOnlyDictionary<int, string> InitialThreadNames => _inputs.Count == 0 ? base.InitialThreadNames : _inputs[0].InitialThreadNames;

    public override TraceEvent Current => _inputs[_current].Current;

    /// <summary>Adds an input; call from the thread that reads (between events).</summary>
    public void Add(LiveEventSource input)
    {
        _watermark = long.MinValue; // nothing is known of the new input until it is polled
        _inputs.Add(input);
        _ready.Add(false);
        _ended.Add(false);
        if (_stopForwarded)
            input.RequestStop();
    }

    public override long Watermark
    {
        get
        {
            long w = long.MaxValue;
            for (int i = 0; i < _inputs.Count; i++)
            {
                if (!_ready[i] && !_ended[i])
                    w = Math.Min(w, _inputs[i].Watermark);
            }
            if (_merge.TryPeek(out long top))
                w = Math.Min(w, top - 1);
            return w;
        }
    }

    /// <summary>Diagnostics of the inputs, summed (this source's own <see cref="EventSource.Diagnostics"/> counts late events).</summary>
    public SourceDiagnostics InputDiagnostics()
    {
        var all = new SourceDiagnostics();
        all.Add(Diagnostics);
        foreach (var i in _inputs)
            all.Add(i.Diagnostics);
        return all;
    }

    public override SourceDiagnostics CollectDiagnostics() => InputDiagnostics();

    protected override LiveReadResult Poll()
    {
        if (_current >= 0)
        {
            if (!Pull(_current) && !_ended[_current])
                _watermark = Math.Min(_watermark, _inputs[_current].Watermark);
            _current = -1;
        }
        if (StopRequested && !_stopForwarded)
        {
            _stopForwarded = true;
            foreach (var i in _inputs)
                i.RequestStop();
        }
        // The cached watermark stays valid between refreshes (input watermarks only grow): most events
        // are released without touching the other inputs.
        if (Release())
            return LiveReadResult.Event;
        Refresh();
        if (Release())
            return LiveReadResult.Event;
        return _ended.TrueForAll(e => e) && _merge.Waiting == 0 ? LiveReadResult.End : LiveReadResult.Idle;
    }

    private bool Release()
    {
        if (!_merge.TryTake(_watermark, out long timestamp))
            return false;
        _current = _merge.Current;
        _ready[_current] = false;
        if (timestamp < _lastReleased)
            Diagnostics.AddOutOfOrder();
        else
            _lastReleased = timestamp;
        return true;
    }

    private long _watermark = long.MinValue;

    /// <summary>Pulls every input without a waiting event and recomputes the watermark.</summary>
    private void Refresh()
    {
        long watermark = long.MaxValue;
        for (int i = 0; i < _inputs.Count; i++)
        {
            if (!_ready[i] && !_ended[i] && !Pull(i) && !_ended[i])
                watermark = Math.Min(watermark, _inputs[i].Watermark);
        }
        _watermark = watermark;
    }

    private bool Pull(int i)
    {
        var r = _inputs[i].TryMoveNext(TimeSpan.Zero);
        if (r == LiveReadResult.Event)
        {
            _merge.Enqueue(i, _inputs[i].Current.Timestamp);
            _ready[i] = true;
            return true;
        }
        if (r == LiveReadResult.End)
            _ended[i] = true;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var i in _inputs)
                i.Dispose();
        }
    }
}
