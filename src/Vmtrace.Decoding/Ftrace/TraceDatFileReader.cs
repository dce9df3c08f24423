using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Positioned reads of a trace.dat's metadata in the file's byte order. Every size read from the file is
/// checked against the file length before anything is allocated; problems throw a
/// <see cref="TraceFormatException"/> naming the file and offset. Used when opening, never per event.
/// </summary>
internal sealed class TraceDatFileReader : IDisposable
{
    private readonly byte[] _scratch = new byte[8];

    public TraceDatFileReader(string path)
    {
        Path = path;
        Handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(Handle);
    }

    public string Path { get; }
    public SafeFileHandle Handle { get; }
    public long Length { get; }
    public long Position { get; set; }
    public bool BigEndian { get; set; }

    public TraceFormatException Error(long offset, string problem) => new(Path, offset, problem);

    public byte ReadByte()
    {
        ReadExactly(_scratch.AsSpan(0, 1));
        return _scratch[0];
    }

    public ushort ReadU16()
    {
        ReadExactly(_scratch.AsSpan(0, 2));
        return BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(_scratch) : BinaryPrimitives.ReadUInt16LittleEndian(_scratch);
    }

    public uint ReadU32()
    {
        ReadExactly(_scratch.AsSpan(0, 4));
        return BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_scratch) : BinaryPrimitives.ReadUInt32LittleEndian(_scratch);
    }

    public ulong ReadU64()
    {
        ReadExactly(_scratch.AsSpan(0, 8));
        return BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(_scratch) : BinaryPrimitives.ReadUInt64LittleEndian(_scratch);
    }

    /// <summary>Reads a block whose size came from the file: refused when it runs past the end of the file.</summary>
    public byte[] ReadBlock(ulong size, string what)
    {
        long at = Position;
        if (size > (ulong)(Length - at) || size > int.MaxValue)
            throw Error(at, $"{what} of {size} bytes runs past the end of the file ({Length} bytes)");
        var block = new byte[(int)size];
        ReadExactly(block);
        return block;
    }

    /// <summary>Skips a block whose size came from the file.</summary>
    public void Skip(ulong size, string what)
    {
        if (size > (ulong)(Length - Position))
            throw Error(Position, $"{what} of {size} bytes runs past the end of the file ({Length} bytes)");
        Position += (long)size;
    }

    /// <summary>Reads a NUL-terminated ASCII string of at most <paramref name="maxLength"/> bytes.</summary>
    public string ReadCString(int maxLength = 4096)
    {
        long at = Position;
        var sb = new StringBuilder();
        while (true)
        {
            if (Position >= Length)
                throw Error(at, "unterminated string at the end of the file");
            byte b = ReadByte();
            if (b == 0)
                return sb.ToString();
            if (sb.Length >= maxLength)
                throw Error(at, $"string longer than {maxLength} bytes");
            sb.Append((char)b);
        }
    }

    public void ReadExactly(Span<byte> destination)
    {
        long at = Position;
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(Handle, destination[total..], at + total);
            if (n == 0)
                throw Error(at, $"file ends after {total} of {destination.Length} bytes");
            total += n;
        }
        Position = at + total;
    }

    public void Dispose() => Handle.Dispose();
}
