using System.Runtime.CompilerServices;
using System.Text;

namespace Vmtrace.Decoding;

/// <summary>
/// One decoded event. A view over the reader's buffers: valid only until the source's next
/// <c>MoveNext()</c>. Copy out what you keep. Field values live in slots described by
/// <see cref="EventType.Fields"/>; read them by slot or by <see cref="FieldRole"/>.
/// </summary>
public readonly ref struct TraceEvent
{
    private readonly ReadOnlySpan<long> _values;
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ReadOnlySpan<long> _elements;
    private readonly ReadOnlySpan<bool> _present;

    public TraceEvent(long timestamp, int cpu, int tid, EventType type,
        ReadOnlySpan<long> values, ReadOnlySpan<byte> bytes = default, ReadOnlySpan<long> elements = default,
        ReadOnlySpan<bool> present = default)
    {
        Timestamp = timestamp;
        Cpu = cpu;
        Tid = tid;
        Type = type;
        _values = values;
        _bytes = bytes;
        _elements = elements;
        _present = present;
    }

    /// <summary>The same event at another time (a replay shifted in time); fields are shared, not copied.</summary>
    public TraceEvent WithTimestamp(long timestamp) => new(timestamp, Cpu, Tid, Type, _values, _bytes, _elements, _present);

    /// <summary>Nanoseconds on the source's clock (see <see cref="EventSource.Clock"/>).</summary>
    public long Timestamp { get; }
    /// <summary>CPU that recorded the event, or -1 when unknown.</summary>
    public int Cpu { get; }
    /// <summary>Thread that was running when the event was recorded, or -1 when the format does not say.</summary>
    public int Tid { get; }
    public EventType Type { get; }
    public KnownEvent Known => Type.Known;
    public int FieldCount => Type.Fields.Length;

    /// <summary>Packs an (offset, length) pair for a String or IntArray slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long PackSpan(int offset, int length) => ((long)offset << 32) | (uint)length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsPresent(int slot) => _present.IsEmpty || _present[slot];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long GetInt64(int slot) => _values[slot];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong GetUInt64(int slot) => (ulong)_values[slot];

    public double GetDouble(int slot) => BitConverter.Int64BitsToDouble(_values[slot]);

    /// <summary>UTF-8 bytes of a String slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetBytes(int slot)
    {
        long packed = _values[slot];
        return _bytes.Slice((int)(packed >> 32), (int)(uint)packed);
    }

    /// <summary>Elements of an IntArray slot.</summary>
    public ReadOnlySpan<long> GetElements(int slot)
    {
        long packed = _values[slot];
        return _elements.Slice((int)(packed >> 32), (int)(uint)packed);
    }

    /// <summary>True when the event has a present field with that role.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Has(FieldRole role)
    {
        int slot = Type.Slot(role);
        return slot >= 0 && IsPresent(slot);
    }

    /// <summary>Integer value of the field with that role, or <paramref name="fallback"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Get(FieldRole role, long fallback = 0)
    {
        int slot = Type.Slot(role);
        return slot >= 0 && IsPresent(slot) ? _values[slot] : fallback;
    }

    /// <summary>UTF-8 text of the field with that role, or empty.</summary>
    public ReadOnlySpan<byte> GetText(FieldRole role)
    {
        int slot = Type.Slot(role);
        if (slot < 0 || !IsPresent(slot) || Type.Fields[slot].Kind != FieldKind.String)
            return default;
        return GetBytes(slot);
    }

    /// <summary>Allocates: for display and tests only.</summary>
    public string GetString(int slot) => Encoding.UTF8.GetString(GetBytes(slot));
}
