using System.Buffers.Binary;
using System.Text;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>
/// Writes a small version 6 trace.dat by hand (either byte order) with one event format, options and an
/// extra buffer instance, for the paths the real corpus does not cover.
/// </summary>
internal sealed class SyntheticTraceDat(bool bigEndian)
{
    public const int PageSize = 4096;
    public const int EventId = 42;

    private const string HeaderPage = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
        + "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

    private const string Format = "name: sample\nID: 42\nformat:\n"
        + "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
        + "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
        + "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
        + "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
        + "\tfield:u32 value;\toffset:8;\tsize:4;\tsigned:0;\n"
        + "\tfield:s64 big;\toffset:16;\tsize:8;\tsigned:1;\n"
        + "print fmt: \"value=%u\", REC->value\n";

    private readonly List<byte> _out = [];

    public List<string> Options { get; } = [];

    /// <summary>Payload of a "sample" event (or any other id, to make an unknown event).</summary>
    public byte[] Payload(int pid, uint value, long big, int id = EventId)
    {
        var p = new byte[24];
        U16(p, 0, (ushort)id);
        U32(p, 4, (uint)pid);
        U32(p, 8, value);
        if (bigEndian) BinaryPrimitives.WriteInt64BigEndian(p.AsSpan(16), big); else BinaryPrimitives.WriteInt64LittleEndian(p.AsSpan(16), big);
        return p;
    }

    public RingBufferPageBuilder Page() => new(PageSize, 8, bigEndian);

    /// <summary>Writes the file: top-instance pages of CPU 0, then (if given) an instance "inst" with its CPU 0 pages.</summary>
    public void Write(string path, IReadOnlyList<byte[]> topPages, IReadOnlyList<byte[]>? instancePages, string clock = "mono", string? offset = null)
    {
        Bytes([0x17, 0x08, 0x44, .. "tracing"u8, .. "6\0"u8, bigEndian ? (byte)1 : (byte)0, 8]);
        Number(PageSize, 4);
        Bytes("header_page\0"u8);
        Text64(HeaderPage);
        Bytes("header_event\0"u8);
        Text64("# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n");
        Number(0, 4); // ftrace formats
        Number(1, 4); // systems
        Bytes("test\0"u8);
        Number(1, 4);
        Text64(Format);
        Number(0, 4); // kallsyms
        Number(0, 4); // printk formats
        Text64("100 worker\n200 other thread\n");
        Number(1, 4); // CPUs
        Bytes("options  \0"u8);
        Option(4, $"local global [{clock}]\n\0");
        if (offset is not null)
            Option(7, offset + "\0");
        int bufferOffsetAt = -1;
        if (instancePages is not null)
        {
            var option = new List<byte>();
            option.AddRange(new byte[8]);
            option.AddRange("inst\0"u8.ToArray());
            Number(3, 2);
            Number(option.Count, 4);
            bufferOffsetAt = _out.Count;
            Bytes(option.ToArray());
        }
        Number(0, 2);
        Bytes("flyrecord\0"u8);
        int topTableAt = _out.Count;
        Number(0, 8);
        Number(0, 8);
        int instanceTableAt = _out.Count;
        if (instancePages is not null)
        {
            Number(0, 8);
            Number(0, 8);
        }
        Align();
        long topStart = _out.Count;
        foreach (var page in topPages)
            Bytes(page);
        Patch(topTableAt, topStart, topPages.Count * PageSize);
        if (instancePages is not null)
        {
            long instanceStart = _out.Count;
            foreach (var page in instancePages)
                Bytes(page);
            Patch(instanceTableAt, instanceStart, instancePages.Count * PageSize);
            PatchNumber(bufferOffsetAt, instanceTableAt, 8);
        }
        File.WriteAllBytes(path, _out.ToArray());
    }

    private void Option(int id, string text)
    {
        Number(id, 2);
        Number(Encoding.ASCII.GetByteCount(text), 4);
        Bytes(Encoding.ASCII.GetBytes(text));
    }

    private void Text64(string text)
    {
        Number(text.Length, 8);
        Bytes(Encoding.ASCII.GetBytes(text));
    }

    private void Align()
    {
        while (_out.Count % PageSize != 0)
            _out.Add(0);
    }

    private void Patch(int at, long offset, long size)
    {
        PatchNumber(at, offset, 8);
        PatchNumber(at + 8, size, 8);
    }

    private void PatchNumber(int at, long value, int size)
    {
        var b = Encode(value, size);
        for (int i = 0; i < size; i++)
            _out[at + i] = b[i];
    }

    private void Number(long value, int size) => _out.AddRange(Encode(value, size));

    private byte[] Encode(long value, int size)
    {
        var b = new byte[size];
        for (int i = 0; i < size; i++)
            b[bigEndian ? size - 1 - i : i] = (byte)(value >> (8 * i));
        return b;
    }

    private void Bytes(ReadOnlySpan<byte> bytes) => _out.AddRange(bytes.ToArray());

    private void U16(byte[] p, int at, ushort v)
    {
        if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at), v); else BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(at), v);
    }

    private void U32(byte[] p, int at, uint v)
    {
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(at), v);
    }
}
