namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// Turns one qemu log line into the current event: parse, find the line's cached event type, fill the
/// reusable record, count time going backwards. Shared by the file reader and the live follower, which
/// differ only in how they get lines. Allocates nothing per line once the line's type is known.
/// </summary>
internal sealed class QemuLogEventDecoder
{
    private readonly QemuLogLineParser _parser = new();
    private readonly QemuEventTypeCache _types = new();
    private readonly EventRecordBuffer _record = new();
    private EventType? _currentType;
    private long _currentTimestamp;
    private int _currentTid;
    private long _lastTimestamp = long.MinValue;

    /// <summary>Distinct event types met so far.</summary>
    public int TypeCount => _types.Count;

    public bool HasCurrent => _currentType is not null;

    public TraceEvent Current => _currentType is null
        ? throw new InvalidOperationException("no current event")
        : _record.View(_currentTimestamp, -1, _currentTid, _currentType);

    /// <summary>Makes <paramref name="line"/> the current event, or returns why it is not an event line.</summary>
    public string? Decode(ReadOnlySpan<byte> line, SourceDiagnostics diagnostics)
    {
        string? problem = _parser.Parse(line);
        if (problem is not null)
            return problem;
        var type = _types.GetOrAdd(line, _parser);
        _record.Reset(type);
        var fields = _parser.Fields;
        for (int slot = 0; slot < fields.Length; slot++)
        {
            ref readonly var f = ref fields[slot];
            if (f.Kind == FieldKind.String)
                _record.SetString(slot, line.Slice(f.TextStart, f.TextLength));
            else
                _record.SetInt(slot, f.Value);
        }
        _currentType = type;
        _currentTid = _parser.Tid;
        _currentTimestamp = _parser.Timestamp;
        if (_currentTimestamp < _lastTimestamp)
            diagnostics.AddOutOfOrder();
        else
            _lastTimestamp = _currentTimestamp;
        return null;
    }

    /// <summary>No current event (at the end).</summary>
    public void Clear() => _currentType = null;
}
