using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Reads one CTF stream file (one CPU of one channel) packet after packet, event after event, from a
/// memory-mapped view. Lost events (events_discarded increases) come out as a synthetic event at the
/// packet's start; a corrupt packet is reported and skipped, reading goes on at the next packet.
/// The pages of the packets already read are handed back (madvise), so the process's resident memory stays
/// a window per stream instead of growing to the size of the trace.
/// </summary>
internal sealed unsafe partial class CtfStreamReader : IDisposable
{
    /// <summary>Read pages are handed back once this many bytes are behind the reading position.</summary>
    private const long ReleaseChunk = 256 * 1024;
    private const int MadviseDontNeed = 4;
    private static readonly long s_pageSize = Environment.SystemPageSize;

    private readonly CtfTraceLayout _layout;
    private readonly string _file;
    private readonly SourceDiagnostics _diagnostics;
    private readonly EventType _lostEventsType;
    private readonly DecodeMachine _machine;
    private readonly EventRecordBuffer _buffer = new();
    private readonly EventRecordBuffer _packetHeaderBuffer = new();
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _length;

    private long _nextPacketOffset;
    /// <summary>Bytes from the mapping's start already handed back to the kernel (a whole number of pages).</summary>
    private long _releasedUntil;
    private bool _inPacket;
    /// <summary>Set while reading a packet cut by the end of the file: its warning, given once its events are read.</summary>
    private string? _cutProblem;
    private long _cutDecodedUntil;
    private long _packetOffset;
    private long _packetBytes;
    private StreamClassLayout? _stream;
    private int _packetCpu = -1;
    private long _lastDiscarded;
    private long _lastSequence = -1;
    private long _pendingLost;
    private long _packetBeginNs;
    private long _lastTimestamp = long.MinValue;

    private EventType? _currentType;
    private long _currentTimestamp;
    private int _currentCpu;
    private int _currentTid;

    public CtfStreamReader(CtfTraceLayout layout, string file, SourceDiagnostics diagnostics, EventType lostEventsType)
    {
        _layout = layout;
        _file = file;
        _diagnostics = diagnostics;
        _lostEventsType = lostEventsType;
        _machine = new DecodeMachine(file);
        _length = new FileInfo(file).Length;
        if (_length > 0)
        {
            var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }
    }

    public string File => _file;

    /// <summary>Bytes of the file consumed so far.</summary>
    public long Consumed => _inPacket ? _packetOffset + (_machine.Position >> 3) : _nextPacketOffset;

    public long Length => _length;

    /// <summary>CPU of the first packet (cpu_id), or -1; valid after the first <see cref="MoveNext"/>.</summary>
    public int PacketCpu => _packetCpu;

    public TraceEvent Current => _buffer.View(_currentTimestamp, _currentCpu, _currentTid, _currentType!);

    public long CurrentTimestamp => _currentTimestamp;

    private ReadOnlySpan<byte> Span(long offset, long length) =>
        new(_base + offset, (int)Math.Min(length, int.MaxValue));

    public bool MoveNext()
    {
        while (true)
        {
            if (!_inPacket)
            {
                if (!OpenNextPacket())
                    return false;
                if (_pendingLost > 0)
                {
                    EmitLost();
                    return true;
                }
            }
            if (_machine.Position >= _machine.Limit)
            {
                _inPacket = false;
                if (_cutProblem is not null)
                    ReportCut();
                continue;
            }
            try
            {
                DecodeEvent();
                long decodedUntil = _packetOffset + (_machine.Position >> 3);
                if (_cutProblem is not null)
                    _cutDecodedUntil = decodedUntil;
                // Packets can be large (perf writes 9 MB ones): pages are handed back within a packet too.
                if (decodedUntil - _releasedUntil >= ReleaseChunk)
                    ReleaseBefore(decodedUntil);
                return true;
            }
            catch (TraceFormatException ex)
            {
                long at = _packetOffset + (_machine.Position >> 3);
                _inPacket = false;
                if (_cutProblem is not null)
                    ReportCut();
                else
                    _diagnostics.AddError(ex, Math.Max(0, _packetOffset + _packetBytes - at));
            }
        }
    }

    /// <summary>
    /// The one warning for a packet cut by the end of the file, once its events are read: what gave no event (the
    /// whole present part when none did, else what follows the last one) is counted skipped; a record cut in two
    /// is part of the cut, not a second error.
    /// </summary>
    private void ReportCut()
    {
        long decodedUntil = _cutDecodedUntil >= 0 ? _cutDecodedUntil : _packetOffset;
        string read = _cutDecodedUntil >= 0 ? $"; the events before byte {decodedUntil} are read" : "; it holds no whole event";
        _diagnostics.AddError(new TraceFormatException(_file, _packetOffset, _cutProblem + read), Math.Max(0, _length - decodedUntil));
        _cutProblem = null;
    }

    /// <summary>The cpu_id of the first packet, or -1 (read without disturbing the reading position or diagnostics).</summary>
    internal int ProbeFirstPacketCpu()
    {
        if (_length == 0)
            return -1;
        var m = _machine;
        var data = Span(0, _length);
        m.PacketOffset = 0;
        m.Position = 0;
        m.Limit = (long)data.Length * 8;
        try
        {
            var stream = DecodePacketHeaderAndContext(data, 0);
            return stream.CpuIdRegister >= 0 ? (int)m.Registers[stream.CpuIdRegister] : -1;
        }
        catch (TraceFormatException)
        {
            return -1; // reported when the packet is read
        }
    }

    /// <summary>Offsets and sizes in bytes of the packets that open cleanly (reads headers only; for tools and tests).</summary>
    internal List<(long Offset, long Bytes)> ListPackets()
    {
        var packets = new List<(long, long)>();
        while (OpenNextPacket())
        {
            packets.Add((_packetOffset, _packetBytes));
            _inPacket = false;
        }
        return packets;
    }

    private void DecodeEvent()
    {
        var stream = _stream!;
        var data = Span(_packetOffset, _packetBytes);
        var m = _machine;
        long start = m.Position;
        m.EventId = 0;
        m.Run(data, stream.EventHeader, null);
        var cls = stream.Find(m.EventId);
        if (cls is null)
            m.ThrowFormat($"unknown event id {m.EventId}");
        _buffer.Reset(cls!.Type);
        m.Run(data, cls.Program, _buffer);
        if (m.Position == start)
            m.ThrowFormat("event of zero bits: the rest of the packet cannot be split into events"); // else it would repeat forever

        long ts = stream.Clock.ToNanoseconds(m.Clock);
        if (ts < _lastTimestamp)
            _diagnostics.AddOutOfOrder();
        _lastTimestamp = ts;
        _currentTimestamp = ts;
        _currentType = cls.Type;
        _currentTid = cls.TidRegister >= 0 ? (int)m.Registers[cls.TidRegister] : -1;
        _currentCpu = _packetCpu >= 0 ? _packetCpu : cls.CpuRegister >= 0 ? (int)m.Registers[cls.CpuRegister] : -1;
    }

    private void EmitLost()
    {
        _diagnostics.AddLostEvents(_pendingLost);
        _buffer.Reset(_lostEventsType);
        _buffer.SetInt(0, _pendingLost);
        _pendingLost = 0;
        _currentType = _lostEventsType;
        _currentTimestamp = _packetBeginNs;
        _currentCpu = _packetCpu;
        _currentTid = -1;
    }

    private bool OpenNextPacket()
    {
        while (_nextPacketOffset < _length)
        {
            long offset = _nextPacketOffset;
            long resume = -1;
            try
            {
                if (OpenPacket(offset, ref resume))
                    return true;
            }
            catch (TraceFormatException ex)
            {
                if (resume <= offset)
                    resume = FindNextMagic(offset + 1);
                _diagnostics.AddError(ex, resume - offset);
                _nextPacketOffset = resume;
            }
        }
        return false;
    }

    /// <summary>Decodes a packet's header and context. False for a packet without events.</summary>
    private bool OpenPacket(long offset, ref long resume)
    {
        var m = _machine;
        long available = _length - offset;
        var data = Span(offset, available);
        m.PacketOffset = offset;
        m.Position = 0;
        m.Limit = (long)data.Length * 8;

        StreamClassLayout stream;
        try
        {
            stream = DecodePacketHeaderAndContext(data, offset);
        }
        catch (TraceFormatException ex) when (ex.Offset != offset)
        {
            throw new TraceFormatException(_file, offset, "packet header or context cut short or corrupt: " + ex.Problem, ex);
        }
        var regs = m.Registers;
        long packetBits = stream.PacketSizeRegister >= 0 ? regs[stream.PacketSizeRegister] : available * 8;
        long contentBits = stream.ContentSizeRegister >= 0 ? regs[stream.ContentSizeRegister] : packetBits;
        if (packetBits <= 0 || packetBits % 8 != 0)
            throw new TraceFormatException(_file, offset, $"bad packet_size {packetBits} bits");
        if (contentBits > packetBits || contentBits < 0)
            throw new TraceFormatException(_file, offset, $"content_size {contentBits} bits exceeds packet_size {packetBits} bits");
        if (packetBits / 8 > available)
        {
            string problem = $"packet_size {packetBits / 8} bytes runs past the end of the file ({available} bytes left)";
            // No packet after it: the last packet of a file cut while written, whose events before the cut are read.
            // Else its size is the damage: reading resumes at the next packet.
            if (FindNextMagic(offset + 1) < _length)
                throw new TraceFormatException(_file, offset, problem);
            _cutProblem = problem;
            _cutDecodedUntil = -1;
            packetBits = available * 8;
            contentBits = Math.Min(contentBits, packetBits);
        }
        resume = offset + packetBits / 8;
        if (m.Position > contentBits)
            throw new TraceFormatException(_file, offset, $"packet header and context ({m.Position} bits) exceed content_size {contentBits} bits");

        _stream = stream;
        ReleaseBefore(offset);
        _packetOffset = offset;
        _packetBytes = packetBits / 8;
        _nextPacketOffset = resume;
        m.Limit = contentBits;
        if (stream.TimestampBeginRegister >= 0)
            m.Clock = (ulong)regs[stream.TimestampBeginRegister];
        _packetBeginNs = stream.Clock.ToNanoseconds(m.Clock);
        _packetCpu = stream.CpuIdRegister >= 0 ? (int)regs[stream.CpuIdRegister] : -1;

        if (stream.EventsDiscardedRegister >= 0)
        {
            long discarded = regs[stream.EventsDiscardedRegister];
            if (discarded > _lastDiscarded)
                _pendingLost = discarded - _lastDiscarded;
            _lastDiscarded = discarded;
        }
        if (stream.SequenceNumberRegister >= 0)
        {
            long seq = regs[stream.SequenceNumberRegister];
            if (_lastSequence >= 0 && seq > _lastSequence + 1)
                _diagnostics.AddLostPackets(seq - _lastSequence - 1);
            _lastSequence = seq;
        }
        _inPacket = true;
        return true;
    }

    /// <summary>
    /// Hands the mapped pages before <paramref name="offset"/> back to the kernel: they are file pages, read again
    /// from the page cache if anything touches them later, so nothing changes but the resident size.
    /// </summary>
    private void ReleaseBefore(long offset)
    {
        if (!OperatingSystem.IsLinux() || _view is null)
            return;
        // In bytes from the mapping's start, which is page-aligned (the file's offset 0 is PointerOffset into it).
        long end = (_view.PointerOffset + offset) / s_pageSize * s_pageSize;
        if (end - _releasedUntil < ReleaseChunk)
            return;
        byte* mapping = _base - _view.PointerOffset;
        _ = Madvise((nint)(mapping + _releasedUntil), (nuint)(end - _releasedUntil), MadviseDontNeed);
        _releasedUntil = end;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    private StreamClassLayout DecodePacketHeaderAndContext(ReadOnlySpan<byte> data, long offset)
    {
        var m = _machine;
        _packetHeaderBuffer.Reset(_layout.PacketHeaderType);
        m.Run(data, _layout.PacketHeader, _packetHeaderBuffer);
        var header = _packetHeaderBuffer.View(0, -1, -1, _layout.PacketHeaderType);
        if (_layout.MagicSlot >= 0 && (uint)header.GetInt64(_layout.MagicSlot) != CtfTraceLayout.PacketMagic)
            throw new TraceFormatException(_file, offset, $"bad packet magic 0x{(uint)header.GetInt64(_layout.MagicSlot):X8} (expected 0x{CtfTraceLayout.PacketMagic:X8})");
        if (_layout.UuidSlot >= 0 && _layout.Metadata.Uuid is { } uuid && !UuidMatches(header.GetElements(_layout.UuidSlot), uuid))
            throw new TraceFormatException(_file, offset, "packet uuid differs from the trace uuid");
        long streamId = _layout.StreamIdSlot >= 0 ? header.GetInt64(_layout.StreamIdSlot) : _layout.DefaultStreamId;
        if (!_layout.Streams.TryGetValue(streamId, out var stream))
            throw new TraceFormatException(_file, offset, $"packet names unknown stream class {streamId}");

        m.Run(data, stream.PacketContext, null);
        return stream;
    }

    private static bool UuidMatches(ReadOnlySpan<long> packetUuid, byte[] uuid)
    {
        if (packetUuid.Length != uuid.Length)
            return false;
        for (int i = 0; i < uuid.Length; i++)
        {
            if (packetUuid[i] != uuid[i])
                return false;
        }
        return true;
    }

    /// <summary>After a packet whose size cannot be trusted: the next offset holding the packet magic, else the end of the file.</summary>
    private long FindNextMagic(long from)
    {
        if (_layout.MagicSlot < 0 || from >= _length)
            return _length;
        Span<byte> magic = stackalloc byte[4];
        if (_layout.Metadata.ByteOrder == CtfByteOrder.Big)
            BinaryPrimitives.WriteUInt32BigEndian(magic, CtfTraceLayout.PacketMagic);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(magic, CtfTraceLayout.PacketMagic);
        long position = from;
        while (position < _length)
        {
            var window = Span(position, _length - position);
            int hit = window.IndexOf(magic);
            if (hit >= 0)
                return position + hit;
            if (window.Length < _length - position)
                position += window.Length - 3;
            else
                break;
        }
        return _length;
    }

    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
