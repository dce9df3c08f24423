using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>What <see cref="RingBufferPageReader.Next"/> found.</summary>
public enum RingBufferRecordKind
{
    /// <summary>An event: its payload (starting with <c>common_type</c>) is at the returned offset.</summary>
    Event,
    /// <summary>No more events on this page.</summary>
    End,
    /// <summary>The page is damaged from <see cref="RingBufferPageReader.Position"/> on; see <see cref="RingBufferPageReader.Problem"/>.</summary>
    Corrupt,
}

/// <summary>The header of one ring-buffer page.</summary>
public readonly record struct RingBufferPageHeader(ulong Timestamp, int DataLength, bool EventsMissed, long MissedCount, string? Problem)
{
    /// <summary>False when the header cannot be trusted (commit beyond the page); the page must be skipped.</summary>
    public bool IsValid => Problem is null;
}

/// <summary>
/// Walks the events of one kernel ring-buffer page (trace.dat per-CPU data, or a page read from
/// <c>trace_pipe_raw</c>). A plain struct holding only the cursor: the page itself is passed to each call,
/// so callers may keep it in a field and the page in any buffer. No allocation.
/// <para>Each record starts with a 32-bit word: type_len (5 bits) and time_delta (27 bits). type_len 1..28 is
/// an event of type_len*4 data bytes; 0 an event whose length is in the next word; 29 padding (a discarded
/// event, or the unused end of the page when time_delta is 0); 30 a time extend (delta bits above 27 in the
/// next word); 31 an absolute timestamp.</para>
/// </summary>
public struct RingBufferPageReader
{
    /// <summary>Bit 31 of commit: events were lost before this page.</summary>
    public const ulong MissedEventsFlag = 1UL << 31;
    /// <summary>Bit 30 of commit: the number lost is stored right after the page data.</summary>
    public const ulong MissedCountStoredFlag = 1UL << 30;

    private const int TypePadding = 29;
    private const int TypeTimeExtend = 30;
    private const int TypeTimeStamp = 31;
    private const int TimeDeltaBits = 27;
    private const ulong TimestampTopBits = 0xF800_0000_0000_0000UL; // bits 59..63, not stored in absolute stamps

    private readonly RingBufferPageLayout _layout;
    private int _position;
    private int _end;
    private ulong _timestamp;

    public RingBufferPageReader(RingBufferPageLayout layout)
    {
        _layout = layout;
        Problem = null;
    }

    public readonly RingBufferPageLayout Layout => _layout;

    /// <summary>Raw timestamp (tracer clock units) of the last event returned.</summary>
    public readonly ulong Timestamp => _timestamp;

    /// <summary>Offset in the page of the next record (or of the damage after <see cref="RingBufferRecordKind.Corrupt"/>).</summary>
    public readonly int Position => _position;

    /// <summary>Offset in the page where the committed data ends.</summary>
    public readonly int DataEnd => _end;

    /// <summary>Committed bytes of the current page missing from the span given to <see cref="Begin"/> (a page cut short), 0 for a whole page.</summary>
    public int CutBytes { get; private set; }

    /// <summary>Why the page was found corrupt, after <see cref="RingBufferRecordKind.Corrupt"/>.</summary>
    public string? Problem { get; private set; }

    /// <summary>Starts reading a page: reads its header and positions on its first record.</summary>
    public RingBufferPageHeader Begin(ReadOnlySpan<byte> page)
    {
        Problem = null;
        _position = _end = 0;
        CutBytes = 0;
        if (page.Length < _layout.DataOffset)
            return Invalid($"page of {page.Length} bytes is shorter than its {_layout.DataOffset}-byte header");
        ulong timestamp = ReadU64(page, 0);
        ulong commit = _layout.CommitSize == 8 ? ReadU64(page, _layout.CommitOffset) : ReadU32(page, _layout.CommitOffset);
        bool missed = (commit & MissedEventsFlag) != 0;
        bool stored = (commit & MissedCountStoredFlag) != 0;
        // The kernel adds the flags to a signed local_t: bit 31 comes back sign-extended into the upper half
        // of an 8-byte commit (0xffffffff80000ff0). Only the low 32 bits hold flags and length (kbuffer does the same).
        ulong length = (commit & 0xFFFF_FFFFUL) & ~(MissedEventsFlag | MissedCountStoredFlag);
        int capacity = _layout.PageSize - _layout.DataOffset;
        if (length > (ulong)capacity)
            return Invalid($"page commit {length} is beyond the page's {capacity} data bytes");

        _timestamp = timestamp;
        _position = _layout.DataOffset;
        _end = _layout.DataOffset + (int)length;
        // A page cut short (a file cut in the middle of it): the records before the cut are read.
        CutBytes = Math.Max(0, _end - page.Length);
        _end -= CutBytes;
        long missedCount = -1;
        if (missed && stored && CutBytes == 0 && _end + _layout.CommitSize <= page.Length)
        {
            ulong count = _layout.CommitSize == 8 ? ReadU64(page, _end) : ReadU32(page, _end);
            missedCount = count > long.MaxValue ? -1 : (long)count;
        }
        return new RingBufferPageHeader(timestamp, (int)length, missed, missed ? missedCount : 0, null);
    }

    private RingBufferPageHeader Invalid(string problem)
    {
        Problem = problem;
        return new RingBufferPageHeader(0, 0, false, 0, problem);
    }

    /// <summary>
    /// Moves to the next event of the page. Time extends, absolute stamps and padding are consumed here
    /// and only update <see cref="Timestamp"/>.
    /// </summary>
    public RingBufferRecordKind Next(ReadOnlySpan<byte> page, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = payloadLength = 0;
        while (true)
        {
            int remaining = _end - _position;
            if (remaining <= 0)
                return RingBufferRecordKind.End;
            if (remaining < 4)
                return Corrupt("truncated record header at the end of the page data");
            uint header = ReadU32(page, _position);
            int typeLen;
            uint delta;
            if (_layout.BigEndian)
            {
                typeLen = (int)(header >> TimeDeltaBits);
                delta = header & ((1u << TimeDeltaBits) - 1);
            }
            else
            {
                typeLen = (int)(header & 0x1F);
                delta = header >> 5;
            }

            switch (typeLen)
            {
                case TypePadding:
                    if (delta == 0)
                    {
                        // A null event: the rest of the page is unused.
                        _position = _end;
                        return RingBufferRecordKind.End;
                    }
                    if (remaining < 8)
                        return Corrupt("truncated padding record");
                    uint padLength = ReadU32(page, _position + 4);
                    if (padLength > (uint)(remaining - 4))
                        return Corrupt($"padding of {padLength} bytes runs beyond the page data");
                    // trace-cmd adds a discarded event's delta: the next delta is relative to it.
                    _timestamp += delta;
                    _position += 4 + (int)padLength;
                    continue;
                case TypeTimeExtend:
                    if (remaining < 8)
                        return Corrupt("truncated time extend");
                    _timestamp += ((ulong)ReadU32(page, _position + 4) << TimeDeltaBits) + delta;
                    _position += 8;
                    continue;
                case TypeTimeStamp:
                    if (remaining < 8)
                        return Corrupt("truncated absolute timestamp");
                    ulong absolute = ((ulong)ReadU32(page, _position + 4) << TimeDeltaBits) | delta;
                    // The top bits are not stored: take them from the running stamp, as the kernel does.
                    ulong top = _timestamp & TimestampTopBits;
                    if (top != 0)
                    {
                        absolute |= top;
                        if (absolute < _timestamp)
                            absolute += 1UL << 59;
                    }
                    _timestamp = absolute;
                    _position += 8;
                    continue;
                case 0:
                    if (remaining < 8)
                        return Corrupt("truncated long event header");
                    uint length = ReadU32(page, _position + 4);
                    // The stored length counts itself (4 bytes) and the data.
                    if (length < 4 || length > (uint)(remaining - 4))
                        return Corrupt($"event length {length} runs beyond the page data");
                    _timestamp += delta;
                    payloadOffset = _position + 8;
                    payloadLength = (int)length - 4;
                    _position += 8 + ((payloadLength + 3) & ~3);
                    if (_position > _end)
                        _position = _end;
                    return RingBufferRecordKind.Event;
                default:
                    int dataLength = typeLen * 4;
                    if (dataLength > remaining - 4)
                        return Corrupt($"event of {dataLength} bytes runs beyond the page data");
                    _timestamp += delta;
                    payloadOffset = _position + 4;
                    payloadLength = dataLength;
                    _position += 4 + dataLength;
                    return RingBufferRecordKind.Event;
            }
        }
    }

    private RingBufferRecordKind Corrupt(string problem)
    {
        Problem = problem;
        return RingBufferRecordKind.Corrupt;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly uint ReadU32(ReadOnlySpan<byte> page, int offset) =>
        _layout.BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(page.Slice(offset, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(page.Slice(offset, 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ulong ReadU64(ReadOnlySpan<byte> page, int offset) =>
        _layout.BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(page.Slice(offset, 8)) : BinaryPrimitives.ReadUInt64LittleEndian(page.Slice(offset, 8));
}
