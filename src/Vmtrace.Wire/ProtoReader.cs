using System.Runtime.CompilerServices;

namespace Vmtrace.Wire;

/// <summary>
/// Reads protobuf fields of one message from a byte array, between <c>start</c> and <c>end</c>.
/// Offsets are absolute in the record, so every error names the byte where it happened.
/// Every length is checked against what is left: a bogus length never allocates or reads past the end.
/// </summary>
internal struct ProtoReader
{
    private readonly byte[] _data;
    private readonly int _end;
    private readonly string _message;
    private int _pos;

    public ProtoReader(byte[] data, int start, int end, string message)
    {
        _data = data;
        _pos = start;
        _end = end;
        _message = message;
    }

    public readonly int Position => _pos;

    /// <summary>Offset of the field just read (its tag), for messages.</summary>
    public int FieldStart { get; private set; }

    public bool TryReadTag(out int field, out WireType type)
    {
        if (_pos >= _end)
        {
            field = 0;
            type = 0;
            return false;
        }
        FieldStart = _pos;
        ulong tag = Varint.Read(_data, ref _pos, _end, _message + " field tag");
        field = (int)(tag >> 3);
        type = (WireType)(tag & 7);
        if (tag >> 3 is 0 or > 536_870_911)
            throw new WireFormatException(FieldStart, $"{_message}: invalid field number {tag >> 3}");
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint(WireType type, string field)
    {
        Expect(type, WireType.Varint, field);
        return Varint.Read(_data, ref _pos, _end, _message + "." + field);
    }

    public long ReadSigned(WireType type, string field) => Varint.UnZigZag(ReadVarint(type, field));

    public int ReadInt32(WireType type, string field)
    {
        long v = (long)ReadVarint(type, field);
        if (v is < int.MinValue or > int.MaxValue)
            throw new WireFormatException(FieldStart, $"{_message}.{field}: {v} does not fit in int32");
        return (int)v;
    }

    public uint ReadUInt32(WireType type, string field)
    {
        ulong v = ReadVarint(type, field);
        if (v > uint.MaxValue)
            throw new WireFormatException(FieldStart, $"{_message}.{field}: {v} does not fit in uint32");
        return (uint)v;
    }

    /// <summary>A length-delimited field: returns its content's absolute range.</summary>
    public (int Start, int End) ReadLengthDelimited(WireType type, string field)
    {
        Expect(type, WireType.LengthDelimited, field);
        ulong len = Varint.Read(_data, ref _pos, _end, _message + "." + field + " length");
        if (len > (ulong)(_end - _pos))
            throw new WireFormatException(FieldStart, $"{_message}.{field}: length {len} runs past the end of its message ({_end - _pos} bytes left)");
        int start = _pos;
        _pos += (int)len;
        return (start, _pos);
    }

    public string ReadString(WireType type, string field)
    {
        var (s, e) = ReadLengthDelimited(type, field);
        try
        {
            return StrictUtf8.GetString(_data, s, e - s);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new WireFormatException(s, $"{_message}.{field}: not valid UTF-8");
        }
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Skips a field this reader does not know (a newer agent of the same version may add some).</summary>
    public void Skip(WireType type)
    {
        switch (type)
        {
            case WireType.Varint:
                Varint.Read(_data, ref _pos, _end, _message + " unknown varint field");
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            case WireType.LengthDelimited:
                ReadLengthDelimited(type, "unknown field");
                break;
            default:
                throw new WireFormatException(FieldStart, $"{_message}: unsupported wire type {(int)type}");
        }
    }

    private void Advance(int n)
    {
        if (_end - _pos < n)
            throw new WireFormatException(FieldStart, $"{_message}: fixed-size field cut short");
        _pos += n;
    }

    private readonly void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected)
            throw new WireFormatException(FieldStart, $"{_message}.{field}: wire type {(int)actual}, expected {(int)expected}");
    }
}
