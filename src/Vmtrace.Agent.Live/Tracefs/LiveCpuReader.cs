using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Native;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>What a <see cref="LiveCpuReader"/> has after <see cref="LiveCpuReader.TryAdvance"/>.</summary>
internal enum CpuReadResult
{
    /// <summary>An event is current.</summary>
    Event,
    /// <summary>The CPU's buffer had nothing more to read just now.</summary>
    Empty,
}

/// <summary>
/// One CPU of the instance: pages read with non-blocking reads of <c>per_cpu/cpuN/trace_pipe_raw</c> (the
/// kernel hands out a page, or the committed part of the page being written), walked with the same
/// <see cref="RingBufferPageReader"/> and decoded with the same <see cref="FtraceDecoderTable"/> as trace.dat
/// files. One page buffer, one record buffer: nothing is allocated per event.
/// </summary>
internal sealed class LiveCpuReader : IDisposable
{
    private readonly string _path;
    private readonly int _fd;
    private readonly byte[] _page;
    private readonly FtraceDecoderTable _decoders;
    private readonly EventType _lostEventsType;
    private readonly EventType _unknownType;
    private readonly SourceDiagnostics _diagnostics;
    private readonly long _offsetNs;
    private readonly EventRecordBuffer _record = new();
    private RingBufferPageReader _reader;
    private int _pageLength;
    private bool _inPage;
    private EventType _currentType;
    private int _currentTid;

    public LiveCpuReader(int cpu, string path, RingBufferPageLayout layout, FtraceDecoderTable decoders, EventType lostEventsType,
        EventType unknownType, long offsetNs, SourceDiagnostics diagnostics)
    {
        Cpu = cpu;
        _path = path;
        _page = new byte[layout.PageSize];
        _reader = new RingBufferPageReader(layout);
        _decoders = decoders;
        _lostEventsType = lostEventsType;
        _unknownType = unknownType;
        _offsetNs = offsetNs;
        _diagnostics = diagnostics;
        _currentType = unknownType;
        _fd = LibC.Open(path, LibC.ORdOnly | LibC.ONonBlock | LibC.OCloExec);
        if (_fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string who = errno is LibC.EAcces or LibC.EPerm ? "not root: " : "";
            throw new TracefsException($"{who}cannot open {path}: {LibC.Describe(errno)}");
        }
    }

    public int Cpu { get; }

    /// <summary>Realtime ns of the current event.</summary>
    public long Timestamp { get; private set; } = long.MinValue;

    /// <summary>Pages read so far.</summary>
    public long PagesRead { get; private set; }

    /// <summary>Bytes of event data read so far.</summary>
    public long BytesRead { get; private set; }

    public TraceEvent Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _record.View(Timestamp, Cpu, _currentTid, _currentType);
    }

    /// <summary>Moves to the next event, reading a page when the current one is done.</summary>
    public CpuReadResult TryAdvance()
    {
        while (true)
        {
            if (!_inPage)
            {
                if (!ReadPage())
                    return CpuReadResult.Empty;
                var header = _reader.Begin(_page.AsSpan(0, _pageLength));
                if (!header.IsValid)
                {
                    _diagnostics.AddError(new TraceFormatException(_path, PagesRead, $"CPU {Cpu}: {header.Problem}"), _pageLength);
                    continue;
                }
                _inPage = true;
                BytesRead += header.DataLength;
                if (_reader.CutBytes > 0)
                    _diagnostics.AddError(new TraceFormatException(_path, PagesRead,
                        $"CPU {Cpu}: short read of {_pageLength} bytes: the page's last {_reader.CutBytes} committed bytes are missing"), _reader.CutBytes);
                if (header.EventsMissed)
                {
                    EmitLostEvents(header);
                    return CpuReadResult.Event;
                }
            }
            var page = _page.AsSpan(0, _pageLength);
            var kind = _reader.Next(page, out int payloadOffset, out int payloadLength);
            if (kind == RingBufferRecordKind.Event)
            {
                if (Decode(page.Slice(payloadOffset, payloadLength)))
                    return CpuReadResult.Event;
                continue;
            }
            _inPage = false;
            if (kind == RingBufferRecordKind.Corrupt)
                _diagnostics.AddError(new TraceFormatException(_path, PagesRead, $"CPU {Cpu} page {PagesRead}: {_reader.Problem}"), _reader.DataEnd - _reader.Position);
        }
    }

    private bool ReadPage()
    {
        while (true)
        {
            nint n = LibC.Read(_fd, ref _page[0], _page.Length);
            if (n > 0)
            {
                _pageLength = (int)n;
                PagesRead++;
                return true;
            }
            if (n == 0)
                return false;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EAgain)
                return false;
            if (errno == LibC.EIntr)
                continue;
            throw new TracefsException($"reading {_path} failed: {LibC.Describe(errno)}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Decode(ReadOnlySpan<byte> payload)
    {
        long timestamp = (long)_reader.Timestamp + _offsetNs;
        if (timestamp < Timestamp)
            _diagnostics.AddOutOfOrder();
        Timestamp = timestamp;
        if (payload.Length < 2)
        {
            _diagnostics.AddError(new TraceFormatException(_path, PagesRead, $"CPU {Cpu}: event of {payload.Length} bytes has no type id"), 0);
            return false;
        }
        int id = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var decoder = _decoders.Get(id);
        if (decoder is null)
        {
            _record.Reset(_unknownType);
            _record.SetInt(0, id);
            _currentType = _unknownType;
            _currentTid = payload.Length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(payload[4..]) : -1;
            return true;
        }
        if (!decoder.Decode(payload, _record))
        {
            _diagnostics.AddError(new TraceFormatException(_path, PagesRead,
                $"CPU {Cpu}: {decoder.Type.Name} event of {payload.Length} bytes is shorter than its format ({decoder.MinimumLength} bytes)"), payload.Length);
            return false;
        }
        _currentType = decoder.Type;
        _currentTid = decoder.ReadPid(payload);
        return true;
    }

    private void EmitLostEvents(in RingBufferPageHeader header)
    {
        Timestamp = Math.Max(Timestamp, (long)header.Timestamp + _offsetNs);
        long count = Math.Max(header.MissedCount, 0);
        _diagnostics.AddLostEvents(count);
        _record.Reset(_lostEventsType);
        _record.SetInt(0, count);
        _currentType = _lostEventsType;
        _currentTid = -1;
    }

    public void Dispose() => LibC.Close(_fd);
}
