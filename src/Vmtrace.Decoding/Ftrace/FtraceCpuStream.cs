using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// The events of one CPU of one buffer instance, in time order: pages from a <see cref="RingBufferPageSource"/>
/// (a trace.dat's, or <c>trace_pipe_raw</c> read live), records from a <see cref="RingBufferPageReader"/>, fields from
/// the per-id <see cref="FtraceEventDecoder"/>. Decodes into its own <see cref="EventRecordBuffer"/> so several CPUs
/// can be merged. Lost events (the page header's flag) become one <c>vmtrace_lost_events</c> event and count in the
/// diagnostics. A live page source may have no page now: <see cref="MoveNext"/> then returns false and can be called again.
/// </summary>
internal sealed class FtraceCpuStream
{
    private readonly RingBufferPageSource _pages;
    private readonly FtraceDecoderTable _decoders;
    private readonly EventType _lostEventsType;
    private readonly EventType _unknownType;
    private readonly FtraceTimestampConverter _clock;
    private readonly SourceDiagnostics _diagnostics;
    private readonly string _path;
    private readonly EventRecordBuffer _record = new();
    private readonly bool _bigEndian;
    private RingBufferPageReader _reader;
    private bool _inPage;
    private EventType _currentType;
    private int _currentTid;

    public FtraceCpuStream(int cpu, RingBufferPageSource pages, RingBufferPageLayout layout, FtraceDecoderTable decoders,
        EventType lostEventsType, EventType unknownType, FtraceTimestampConverter clock, SourceDiagnostics diagnostics, string path)
    {
        Cpu = cpu;
        _pages = pages;
        _reader = new RingBufferPageReader(layout);
        _decoders = decoders;
        _lostEventsType = lostEventsType;
        _unknownType = unknownType;
        _clock = clock;
        _diagnostics = diagnostics;
        _path = path;
        _bigEndian = layout.BigEndian;
        _currentType = unknownType;
    }

    public int Cpu { get; }
    /// <summary>Timestamp of the current event (ns, or ticks without TSC2NSEC).</summary>
    public long Timestamp { get; private set; } = long.MinValue;

    public RingBufferPageSource Pages => _pages;

    /// <summary>Pages decoded so far (damaged ones included).</summary>
    public long PagesRead { get; private set; }

    /// <summary>Bytes of event data in the valid pages so far.</summary>
    public long DataBytes { get; private set; }

    public TraceEvent Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _record.View(Timestamp, Cpu, _currentTid, _currentType);
    }

    public bool MoveNext()
    {
        while (true)
        {
            if (!_inPage)
            {
                if (!_pages.MoveNextPage())
                    return false;
                PagesRead++;
                var header = _reader.Begin(_pages.CurrentPage);
                if (!header.IsValid)
                {
                    ReportDamage(0, _pages.CurrentPage.Length, header.Problem!);
                    continue;
                }
                _inPage = true;
                DataBytes += header.DataLength;
                if (_reader.CutBytes > 0)
                    ReportDamage(_pages.CurrentPage.Length, _reader.CutBytes,
                        $"page cut after {_pages.CurrentPage.Length} bytes: its last {_reader.CutBytes} committed bytes are missing (the events before the cut are read)");
                if (header.EventsMissed)
                {
                    EmitLostEvents(header);
                    return true;
                }
            }

            var page = _pages.CurrentPage;
            var kind = _reader.Next(page, out int payloadOffset, out int payloadLength);
            if (kind == RingBufferRecordKind.Event)
            {
                if (Decode(page.Slice(payloadOffset, payloadLength)))
                    return true;
                continue;
            }
            _inPage = false;
            if (kind == RingBufferRecordKind.Corrupt)
                ReportDamage(_reader.Position, _reader.DataEnd - _reader.Position, _reader.Problem!);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Decode(ReadOnlySpan<byte> payload)
    {
        long timestamp = _clock.ToNanoseconds(_reader.Timestamp, Cpu);
        if (timestamp < Timestamp)
            _diagnostics.AddOutOfOrder();
        Timestamp = timestamp;
        if (payload.Length < 2)
        {
            ReportDamage(_reader.Position, 0, $"event of {payload.Length} bytes has no type id");
            return false;
        }
        int id = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(payload) : BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var decoder = _decoders.Get(id);
        if (decoder is null)
        {
            // No format for this id: deliver it as an unknown event rather than lose it.
            _record.Reset(_unknownType);
            _record.SetInt(0, id);
            _currentType = _unknownType;
            _currentTid = payload.Length >= 8
                ? (_bigEndian ? BinaryPrimitives.ReadInt32BigEndian(payload[4..]) : BinaryPrimitives.ReadInt32LittleEndian(payload[4..]))
                : -1;
            return true;
        }
        if (!decoder.Decode(payload, _record))
        {
            ReportDamage(_reader.Position, payload.Length,
                $"{decoder.Type.Name} event of {payload.Length} bytes is shorter than its format ({decoder.MinimumLength} bytes)");
            return false;
        }
        _currentType = decoder.Type;
        _currentTid = decoder.ReadPid(payload);
        return true;
    }

    private void EmitLostEvents(in RingBufferPageHeader header)
    {
        // Never before the CPU's previous event: the loss lies between the two pages.
        Timestamp = Math.Max(Timestamp, _clock.ToNanoseconds(header.Timestamp, Cpu));
        long count = header.MissedCount;
        _diagnostics.AddLostEvents(Math.Max(count, 0));
        _record.Reset(_lostEventsType);
        _record.SetInt(0, Math.Max(count, 0));
        _currentType = _lostEventsType;
        _currentTid = -1;
    }

    private void ReportDamage(int pageOffset, long skipped, string problem)
    {
        var (at, where) = _pages.Locate(pageOffset);
        _diagnostics.AddError(new TraceFormatException(_path, at, $"CPU {Cpu}: {problem}{where}"), Math.Max(0, skipped));
    }
}
