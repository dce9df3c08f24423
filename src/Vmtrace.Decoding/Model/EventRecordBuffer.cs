using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding;

/// <summary>
/// The reusable storage a reader decodes one event into. Grows to the largest event seen and is
/// then reused: no allocation per event. The <see cref="TraceEvent"/> it hands out is valid until
/// the next <see cref="Reset"/>.
/// </summary>
public sealed class EventRecordBuffer
{
    private long[] _values = new long[16];
    private bool[] _present = new bool[16];
    private byte[] _bytes = new byte[256];
    private long[] _elements = new long[16];
    private int _bytesUsed;
    private int _elementsUsed;
    private int _fieldCount;
    private bool _hasOptional;

    /// <summary>Starts a new event of a type with that many fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset(EventType type)
    {
        int n = type.Fields.Length;
        if (n > _values.Length)
            Grow(n);
        _fieldCount = n;
        _bytesUsed = 0;
        _elementsUsed = 0;
        _hasOptional = type.HasOptionalFields;
        if (_hasOptional)
            Array.Clear(_present, 0, n);
    }

    private void Grow(int n)
    {
        int size = Math.Max(n, _values.Length * 2);
        Array.Resize(ref _values, size);
        Array.Resize(ref _present, size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetInt(int slot, long value)
    {
        _values[slot] = value;
        if (_hasOptional) _present[slot] = true;
    }

    public void SetDouble(int slot, double value) => SetInt(slot, BitConverter.DoubleToInt64Bits(value));

    /// <summary>Copies UTF-8 text into the event's byte data.</summary>
    public void SetString(int slot, ReadOnlySpan<byte> utf8)
    {
        var dest = ReserveBytes(utf8.Length, out int offset);
        utf8.CopyTo(dest);
        SetInt(slot, TraceEvent.PackSpan(offset, utf8.Length));
    }

    /// <summary>Reserves room for text the caller writes itself, then call <see cref="CommitString"/>.</summary>
    public Span<byte> ReserveBytes(int length, out int offset)
    {
        if (_bytesUsed + length > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _bytesUsed + length));
        offset = _bytesUsed;
        _bytesUsed += length;
        return _bytes.AsSpan(offset, length);
    }

    /// <summary>Records text written into reserved bytes; <paramref name="length"/> may be shorter than reserved.</summary>
    public void CommitString(int slot, int offset, int length)
    {
        _bytesUsed = offset + length;
        SetInt(slot, TraceEvent.PackSpan(offset, length));
    }

    /// <summary>Starts an integer array in the element data; append with <see cref="AppendElement"/>.</summary>
    public int BeginElements() => _elementsUsed;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendElement(long value)
    {
        if (_elementsUsed == _elements.Length)
            Array.Resize(ref _elements, _elements.Length * 2);
        _elements[_elementsUsed++] = value;
    }

    public void EndElements(int slot, int start) => SetInt(slot, TraceEvent.PackSpan(start, _elementsUsed - start));

    /// <summary>The event just decoded. Valid until the next <see cref="Reset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TraceEvent View(long timestamp, int cpu, int tid, EventType type) =>
        new(timestamp, cpu, tid, type,
            _values.AsSpan(0, _fieldCount),
            _bytes.AsSpan(0, _bytesUsed),
            _elements.AsSpan(0, _elementsUsed),
            _hasOptional ? _present.AsSpan(0, _fieldCount) : default);
}
