using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// A trace decoded once into flat arrays and replayed from memory, so a benchmark measures what consumes
/// the events (the analysis), not decoding. Replaying allocates nothing per event.
/// </summary>
internal sealed class ReplaySource : EventSource
{
    /// <summary>
    /// One 32-byte entry per event: a single array read per event, so replaying costs little beside the
    /// analysis it feeds. Each event's values are a span of <see cref="_values"/>; its strings and arrays are
    /// packed (offset, length) pairs into the whole <see cref="_bytes"/> and <see cref="_elements"/>, which
    /// every event shares (they are read only through those pairs), so no per-event start is stored for them.
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
        var headers = new List<Header>();
        var values = new List<long>();
        var bytes = new List<byte>();
        var elements = new List<long>();
        while (from.MoveNext())
        {
            var e = from.Current;
            int valueStart = values.Count;
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
                    values.Add(TraceEvent.PackSpan(bytes.Count, b.Length));
                    bytes.AddRange(b);
                }
                else if (kind == FieldKind.IntArray)
                {
                    var el = e.GetElements(slot);
                    values.Add(TraceEvent.PackSpan(elements.Count, el.Length));
                    elements.AddRange(el);
                }
                else
                {
                    values.Add(e.GetInt64(slot));
                }
            }
            headers.Add(new Header(e.Timestamp, e.Type, e.Cpu, e.Tid, valueStart, values.Count - valueStart));
        }
        _headers = [.. headers];
        _values = [.. values];
        _bytes = [.. bytes];
        _elements = [.. elements];
        _names = new Dictionary<int, string>(from.InitialThreadNames);
        _cpuCount = from.CpuCount;
    }

    /// <summary>Reads a whole source into memory.</summary>
    public static ReplaySource Capture(EventSource from) => new(from, null);

    public int Count => _headers.Length;

    /// <summary>Starts over from the first event.</summary>
    public void Rewind() => _index = -1;

    public override string Description => "replay";
    public override int CpuCount => _cpuCount;
    public override IReadOnlyDictionary<int, string> InitialThreadNames => _names;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override bool MoveNext() => ++_index < _headers.Length;

    /// <summary>Added to every timestamp (a looped replay shifts each pass).</summary>
    public long TimeShift { get; set; }

    public long FirstTimestamp => Count == 0 ? 0 : _headers[0].Timestamp;

    public long LastTimestamp => Count == 0 ? 0 : _headers[Count - 1].Timestamp;

    public long CurrentTimestamp => _headers[_index].Timestamp + TimeShift;

    public override TraceEvent Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ref readonly var h = ref _headers[_index];
            return new TraceEvent(h.Timestamp + TimeShift, h.Cpu, h.Tid, h.Type,
                _values.AsSpan(h.ValueStart, h.ValueCount), _bytes, _elements);
        }
    }

    /// <summary>An event's header and where its values are.</summary>
    private readonly record struct Header(long Timestamp, EventType Type, int Cpu, int Tid, int ValueStart, int ValueCount);
}
