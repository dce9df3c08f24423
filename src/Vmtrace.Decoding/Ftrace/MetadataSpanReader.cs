using System.Buffers.Binary;
using System.Text;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>Reads option payloads and metadata sections held in memory; errors name the file offset of the block.</summary>
internal ref struct MetadataSpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _path;
    private readonly long _baseOffset;
    private readonly bool _bigEndian;

    public MetadataSpanReader(ReadOnlySpan<byte> data, string path, long baseOffset, bool bigEndian)
    {
        _data = data;
        _path = path;
        _baseOffset = baseOffset;
        _bigEndian = bigEndian;
        Position = 0;
    }

    public int Position { get; private set; }
    public readonly int Remaining => _data.Length - Position;
    public readonly long FileOffset => _baseOffset + Position;

    public ushort ReadU16() => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(Take(2)) : BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint ReadU32() => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(Take(4)) : BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong ReadU64() => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(Take(8)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A block whose size came from the data; refused when it runs past the end.</summary>
    public ReadOnlySpan<byte> Take(ulong size, string what = "field")
    {
        if (size > (ulong)Remaining)
            throw new TraceFormatException(_path, FileOffset, $"{what} of {size} bytes runs past the end of its block ({Remaining} bytes left)");
        var slice = _data.Slice(Position, (int)size);
        Position += (int)size;
        return slice;
    }

    public string ReadCString()
    {
        int nul = _data[Position..].IndexOf((byte)0);
        if (nul < 0)
            throw new TraceFormatException(_path, FileOffset, "unterminated string");
        string s = Encoding.UTF8.GetString(_data.Slice(Position, nul));
        Position += nul + 1;
        return s;
    }

    /// <summary>The rest as text, without a trailing NUL.</summary>
    public string ReadRestAsText()
    {
        var rest = _data[Position..];
        Position = _data.Length;
        int nul = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? rest[..nul] : rest);
    }
}
