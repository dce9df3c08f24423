using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// A trace decoded once into flat arrays and replayed from memory, so a benchmark measures what consumes
/// the events (the analysis), not decoding. Replaying allocates nothing per event.
/// </summary>
internal sealed class ReplaySource : EventSource
{
    /// <summary>
    /// One entry per event plus an end sentinel (whose starts end the last event's data): a single
    /// array read per event, so replaying costs little beside the analysis it feeds.
    /// </summary>
    private readonly Header[] _headers;
    private readonly long[] _values;
    private readonly byte[] _bytes;
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
        _headers = new Header[ts.Count + 1];
        for (int i = 0; i < ts.Count; i++)
            _headers[i] = new Header(ts[i], cpus[i], tids[i], types[i], valueStart[i], byteStart[i], elementStart[i]);
        _headers[ts.Count] = new Header(0, -1, -1, null, valueStart[ts.Count], byteStart[ts.Count], elementStart[ts.Count]);
        _values = [.. values];
        _bytes = [.. bytes];
        _elements = [.. elements];
        _names = new Dictionary<int, string>(from.InitialThreadNames);
        _cpuCount = from.CpuCount;
    }

    /// <summary>Reads a whole source into memory.</summary>
    public static ReplaySource Capture(EventSource from) => new(from, null);

    public int Count => _headers.Length - 1;

    /// <summary>Starts over from the first event.</summary>
    public void Rewind() => _index = -1;

    public override string Description => "replay";
    public override int CpuCount => _cpuCount;
    public override IReadOnlyDictionary<int, string> InitialThreadNames => _names;

    public override bool MoveNext() => ++_index < _headers.Length - 1;

    /// <summary>Added to every timestamp (a looped replay shifts each pass).</summary>
    public long TimeShift { get; set; }

    public long FirstTimestamp => Count == 0 ? 0 : _headers[0].Timestamp;

    public long LastTimestamp => Count == 0 ? 0 : _headers[Count - 1].Timestamp;

    public long CurrentTimestamp => _headers[_index].Timestamp + TimeShift;

    public override TraceEvent Current
    {
        get
        {
            ref readonly var h = ref _headers[_index];
            ref readonly var next = ref _headers[_index + 1];
            return new TraceEvent(h.Timestamp + TimeShift, h.Cpu, h.Tid, h.Type!,
                _values.AsSpan(h.ValueStart, next.ValueStart - h.ValueStart),
                _bytes.AsSpan(h.ByteStart, next.ByteStart - h.ByteStart),
                _elements.AsSpan(h.ElementStart, next.ElementStart - h.ElementStart));
        }
    }

    /// <summary>An event's header and where its values, string bytes and array elements start.</summary>
    private readonly record struct Header(long Timestamp, int Cpu, int Tid, EventType? Type, int ValueStart, int ByteStart, int ElementStart);
}
