using System.Runtime.CompilerServices;

namespace Vmtrace.Wire;

/// <summary>
/// A growable byte buffer that writes protobuf wire format. Reused across batches: it grows to the
/// largest content seen and is then cleared, never reallocated per event.
/// </summary>
internal sealed class ProtoBuffer
{
    private byte[] _data;
    private int _length;

    public ProtoBuffer(int capacity = 256) => _data = new byte[capacity];

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _data.AsSpan(0, _length);

    public void Clear() => _length = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarint(ulong v)
    {
        if (_data.Length - _length < Varint.MaxLength)
            Grow(Varint.MaxLength);
        var d = _data;
        int p = _length;
        while (v >= 0x80)
        {
            d[p++] = (byte)(v | 0x80);
            v >>= 7;
        }
        d[p++] = (byte)v;
        _length = p;
    }

    /// <summary><see cref="WriteVarint"/>, returning the bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int WriteVarintCounted(ulong v)
    {
        if (_data.Length - _length < Varint.MaxLength)
            Grow(Varint.MaxLength);
        var d = _data;
        int start = _length;
        int p = start;
        while (v >= 0x80)
        {
            d[p++] = (byte)(v | 0x80);
            v >>= 7;
        }
        d[p++] = (byte)v;
        _length = p;
        return p - start;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteSigned(long v) => WriteVarint(Varint.ZigZag(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteTag(int field, WireType type) => WriteVarint(((ulong)(uint)field << 3) | (uint)type);

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (_data.Length - _length < bytes.Length)
            Grow(bytes.Length);
        bytes.CopyTo(_data.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>A length-delimited field (bytes, string, nested message or packed column); omitted when empty and <paramref name="omitEmpty"/>.</summary>
    public void WriteBytesField(int field, ReadOnlySpan<byte> bytes, bool omitEmpty = true)
    {
        if (bytes.IsEmpty && omitEmpty)
            return;
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteStringField(int field, string? text)
    {
        if (string.IsNullOrEmpty(text))
            return;
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        WriteTag(field, WireType.LengthDelimited);
        int n = System.Text.Encoding.UTF8.GetByteCount(text);
        WriteVarint((ulong)n);
        if (_data.Length - _length < max)
            Grow(max);
        _length += System.Text.Encoding.UTF8.GetBytes(text, _data.AsSpan(_length));
    }

    /// <summary>A varint field; proto3 omits zero.</summary>
    public void WriteVarintField(int field, ulong v)
    {
        if (v == 0)
            return;
        WriteTag(field, WireType.Varint);
        WriteVarint(v);
    }

    public void WriteSignedField(int field, long v)
    {
        if (v == 0)
            return;
        WriteTag(field, WireType.Varint);
        WriteSigned(v);
    }

    /// <summary>int32 fields are sign-extended to 64 bits on the wire (protobuf rule).</summary>
    public void WriteInt32Field(int field, int v) => WriteVarintField(field, (ulong)(long)v);

    /// <summary>Size of a length-delimited field holding <paramref name="length"/> bytes.</summary>
    public static int FieldSize(int field, int length) =>
        Varint.Size(((ulong)(uint)field << 3) | 2) + Varint.Size((ulong)length) + length;

    private void Grow(int needed)
    {
        long size = Math.Max((long)_data.Length * 2, (long)_length + needed);
        if (size > Array.MaxLength)
            throw new InvalidOperationException("wire buffer larger than the largest array: flush batches sooner");
        Array.Resize(ref _data, (int)size);
    }
}
