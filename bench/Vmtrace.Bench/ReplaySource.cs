using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// A trace decoded once into flat arrays and replayed from memory, so a benchmark measures what consumes
/// the events (the analysis), not decoding. Replaying allocates nothing per event.
/// </summary>
internal sealed class ReplaySource : EventSource
{
    private readonly long[] _timestamps;
    private readonly int[] _cpus;
    private readonly int[] _tids;
    private readonly EventType[] _types;
    private readonly int[] _valueStart;
    private readonly long[] _values;
    private readonly int[] _byteStart;
    private readonly byte[] _bytes;
    private readonly int[] _elementStart;
    private readonly long[] _elements;
    private readonly IReadOnlyDictionary<int, string> _names;
    private readonly int _cpuCount;
    private int _index = -1;

    private ReplaySource(EventSource from, ReplaySource? _)
    {
        var ts = new List<long>();
        var cpus = new List<int>();
        var tids = new List<int>();
        var types = new List<EventType>();
        var valueStart = new List<int> { 0 };
        var values = new List<long>();
        var byteStart = new List<int> { 0 };
        var bytes = new List<byte>();
        var elementStart = new List<int> { 0 };
        var elements = new List<long>();
        while (from.MoveNext())
        {
            var e = from.Current;
            ts.Add(e.Timestamp);
            cpus.Add(e.Cpu);
            tids.Add(e.Tid);
            types.Add(e.Type);
            // Strings and arrays are copied with their packed (offset, length) rebased on this event's data.
            int byteBase = bytes.Count, elementBase = elements.Count;
            for (int slot = 0; slot < e.FieldCount; slot++)
            {
                var kind = e.Type.Fields[slot].Kind;
                if (!e.IsPresent(slot))
                {
                    values.Add(kind is FieldKind.String or FieldKind.IntArray ? TraceEvent.PackSpan(0, 0) : 0);
                    continue;
                }
                if (kind == FieldKind.String)
                {
                    var b = e.GetBytes(slot);
                    values.Add(TraceEvent.PackSpan(bytes.Count - byteBase, b.Length));
                    bytes.AddRange(b);
                }
                else if (kind == FieldKind.IntArray)
                {
                    var el = e.GetElements(slot);
                    values.Add(TraceEvent.PackSpan(elements.Count - elementBase, el.Length));
                    elements.AddRange(el);
                }
                else
                {
                    values.Add(e.GetInt64(slot));
                }
            }
            valueStart.Add(values.Count);
            byteStart.Add(bytes.Count);
            elementStart.Add(elements.Count);
        }
        _timestamps = [.. ts];
        _cpus = [.. cpus];
        _tids = [.. tids];
        _types = [.. types];
        _valueStart = [.. valueStart];
        _values = [.. values];
        _byteStart = [.. byteStart];
        _bytes = [.. bytes];
        _elementStart = [.. elementStart];
        _elements = [.. elements];
        _names = new Dictionary<int, string>(from.InitialThreadNames);
        _cpuCount = from.CpuCount;
    }

    /// <summary>Reads a whole source into memory.</summary>
    public static ReplaySource Capture(EventSource from) => new(from, null);

    public int Count => _timestamps.Length;

    /// <summary>Starts over from the first event.</summary>
    public void Rewind() => _index = -1;

    public override string Description => "replay";
    public override int CpuCount => _cpuCount;
    public override IReadOnlyDictionary<int, string> InitialThreadNames => _names;

    public override bool MoveNext() => ++_index < _timestamps.Length;

    /// <summary>Added to every timestamp (a looped replay shifts each pass).</summary>
    public long TimeShift { get; set; }

    public long FirstTimestamp => _timestamps.Length == 0 ? 0 : _timestamps[0];

    public long LastTimestamp => _timestamps.Length == 0 ? 0 : _timestamps[^1];

    public long CurrentTimestamp => _timestamps[_index] + TimeShift;

    public override TraceEvent Current
    {
        get
        {
            int i = _index;
            return new TraceEvent(_timestamps[i] + TimeShift, _cpus[i], _tids[i], _types[i],
                _values.AsSpan(_valueStart[i], _valueStart[i + 1] - _valueStart[i]),
                _bytes.AsSpan(_byteStart[i], _byteStart[i + 1] - _byteStart[i]),
                _elements.AsSpan(_elementStart[i], _elementStart[i + 1] - _elementStart[i]));
        }
    }
}
