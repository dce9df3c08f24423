using System.Buffers.Binary;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>Writes a kernel ring-buffer page by hand (little-endian unless asked), record by record, for the page tests.</summary>
internal sealed class RingBufferPageBuilder(int pageSize = 4096, int commitSize = 8, bool bigEndian = false)
{
    private readonly List<byte> _data = [];
    private ulong _timestamp;
    private ulong _flags;
    private ulong? _storedMissed;

    public int DataOffset => 8 + commitSize;

    public Vmtrace.Decoding.Ftrace.RingBufferPageLayout Layout => new(pageSize, 8, commitSize, DataOffset, bigEndian);

    public RingBufferPageBuilder Timestamp(ulong ts)
    {
        _timestamp = ts;
        return this;
    }

    public RingBufferPageBuilder Missed(ulong? storedCount)
    {
        _flags |= 1UL << 31;
        if (storedCount is { } n)
        {
            _flags |= 1UL << 30;
            _storedMissed = n;
        }
        return this;
    }

    /// <summary>An event with type_len = payload words (payload padded to 4 bytes; at most 112 bytes).</summary>
    public RingBufferPageBuilder Event(uint delta, byte[] payload)
    {
        int words = (payload.Length + 3) / 4;
        if (words is < 1 or > 28)
            throw new ArgumentException("short form holds 1..28 words");
        Word(Header(words, delta));
        Bytes(payload, words * 4);
        return this;
    }

    /// <summary>An event with type_len 0: its length (itself + data) in the next word.</summary>
    public RingBufferPageBuilder LongEvent(uint delta, byte[] payload)
    {
        Word(Header(0, delta));
        Word((uint)payload.Length + 4);
        Bytes(payload, (payload.Length + 3) / 4 * 4);
        return this;
    }

    public RingBufferPageBuilder TimeExtend(ulong delta)
    {
        Word(Header(30, (uint)(delta & ((1u << 27) - 1))));
        Word((uint)(delta >> 27));
        return this;
    }

    public RingBufferPageBuilder AbsoluteTime(ulong ts)
    {
        Word(Header(31, (uint)(ts & ((1u << 27) - 1))));
        Word((uint)(ts >> 27));
        return this;
    }

    /// <summary>A discarded event of <paramref name="totalLength"/> bytes (header included).</summary>
    public RingBufferPageBuilder Padding(uint delta, int totalLength)
    {
        Word(Header(29, delta));
        Word((uint)totalLength - 4);
        Bytes([], totalLength - 8);
        return this;
    }

    /// <summary>A raw word, to build damaged records.</summary>
    public RingBufferPageBuilder Word(uint value)
    {
        var b = new byte[4];
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, value); else BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _data.AddRange(b);
        return this;
    }

    public byte[] Build(int? commitOverride = null)
    {
        var page = new byte[pageSize];
        Write64(page, 0, _timestamp);
        ulong commit = (uint)(commitOverride ?? _data.Count) | _flags;
        if (commitSize == 8) Write64(page, 8, commit); else Write32(page, 8, (uint)commit);
        _data.CopyTo(page, DataOffset);
        if (_storedMissed is { } missed)
        {
            if (commitSize == 8) Write64(page, DataOffset + _data.Count, missed); else Write32(page, DataOffset + _data.Count, (uint)missed);
        }
        return page;
    }

    private uint Header(int typeLen, uint delta) => bigEndian ? ((uint)typeLen << 27) | delta : (delta << 5) | (uint)typeLen;

    private void Bytes(byte[] payload, int paddedLength)
    {
        _data.AddRange(payload);
        for (int i = payload.Length; i < paddedLength; i++)
            _data.Add(0);
    }

    private void Write64(byte[] page, int at, ulong v)
    {
        if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(page.AsSpan(at), v); else BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(at), v);
    }

    private void Write32(byte[] page, int at, uint v)
    {
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(page.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at), v);
    }
}
