using Microsoft.Win32.SafeHandles;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Reads a trace-cmd <c>trace.dat</c> (versions 6 and 7, zlib/zstd/uncompressed) as one time-ordered event
/// stream: every CPU of every buffer instance is decoded separately and merged with a min-heap on
/// (timestamp, CPU stream), ties going to the lower CPU as trace-cmd does. Timestamps are in ns after
/// TSC2NSEC/TIME_SHIFT/OFFSET; a TSC trace without TSC2NSEC stays in ticks (<see cref="TraceClockKind.Cycles"/>).
/// </summary>
public sealed class FtraceFileSource : EventSource
{
    private readonly SafeFileHandle _file;
    private readonly TraceDatCompression? _compression;
    private readonly FtraceCpuStream[] _streams;
    private readonly TimeOrderedMerge _merge;
    private readonly long _totalBytes;

    private FtraceFileSource(TraceDatMetadata metadata)
    {
        Metadata = metadata;
        Description = metadata.Path;
        foreach (var (error, skipped) in metadata.Problems)
            Diagnostics.AddError(error, skipped);

        Decoders = new FtraceDecoderTable(metadata.Formats, metadata.BigEndian, metadata.PageLayout.CommitSize);
        Clock = ClockOf(metadata);
        ClockName = ClockNameOf(metadata);
        Machine = MachineOf(metadata);
        Converter = new FtraceTimestampConverter(metadata.Tsc2Nsec, metadata.TimeShift, metadata.TimeOffset);
        var lostEvents = EventType.CreateLostEvents();
        var unknown = new EventType("ftrace_unknown_event", [new FieldDescriptor("type_id", FieldKind.Unsigned)], "ftrace");

        _file = File.OpenHandle(metadata.Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var streams = new List<FtraceCpuStream>();
            foreach (var buffer in metadata.Buffers)
            {
                var compression = buffer.Compressed ? _compression ??= TraceDatCompression.Create(metadata.CompressionName) : null;
                if (buffer.Compressed && compression is null)
                {
                    Diagnostics.AddError(new TraceFormatException(metadata.Path, 0,
                        $"buffer '{buffer.Name}' is compressed with '{metadata.CompressionName}', which vmtrace cannot read"), buffer.Cpus.Sum(c => c.Size));
                    continue;
                }
                foreach (var cpu in buffer.Cpus.OrderBy(c => c.Cpu))
                {
                    var pages = CpuPageSource.Create(metadata.Path, _file, cpu, metadata.PageSize, compression, metadata.BigEndian, Diagnostics);
                    streams.Add(new FtraceCpuStream(cpu.Cpu, pages, metadata.PageLayout, Decoders, lostEvents, unknown, Converter, Diagnostics, metadata.Path));
                    _totalBytes += cpu.Size;
                }
            }
            _streams = streams.ToArray();
            _merge = new TimeOrderedMerge(_streams.Length);
        }
        catch
        {
            _compression?.Dispose();
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Opens a trace.dat. Throws <see cref="TraceFormatException"/> when its headers or formats are unreadable.</summary>
    public static EventSource Open(string path) => OpenTraceDat(path);

    /// <summary>Same as <see cref="Open"/>, typed, for callers that want the trace's metadata.</summary>
    public static FtraceFileSource OpenTraceDat(string path) => new(TraceDatMetadataReader.Read(path));

    public TraceDatMetadata Metadata { get; }

    /// <summary>Decoders by ftrace event id, built as ids are met.</summary>
    public FtraceDecoderTable Decoders { get; }

    public FtraceTimestampConverter Converter { get; }

    /// <summary>Traced guests (GUEST options): the host thread that runs each guest CPU.</summary>
    public IReadOnlyList<TraceDatGuest> Guests => Metadata.Guests;

    /// <summary>Names of the buffer instances read ("" is the top instance).</summary>
    public IEnumerable<string> BufferNames => Metadata.Buffers.Select(b => b.Name);

    public override string Description { get; }

    public override TraceClockKind Clock { get; }

    public override string ClockName { get; }

    public override MachineIdentity? Machine { get; }

    public override int CpuCount => Metadata.CpuCount;

    public override IReadOnlyDictionary<int, string> InitialThreadNames => Metadata.Cmdlines;

    public override double Progress
    {
        get
        {
            if (_totalBytes == 0)
                return 1;
            long consumed = 0;
            foreach (var s in _streams)
                consumed += ((CpuPageSource)s.Pages).Consumed;
            return Math.Min(1, (double)consumed / _totalBytes);
        }
    }

    public override TraceEvent Current => _streams[_merge.Current].Current;

    public override bool MoveNext() => _merge.MoveNext(new Inputs(_streams));

    private readonly struct Inputs(FtraceCpuStream[] streams) : IMergeInputs
    {
        public int Count => streams.Length;
        public bool Advance(int index) => streams[index].MoveNext();
        public long Timestamp(int index) => streams[index].Timestamp;
    }

    /// <summary>
    /// What the timestamps count from. "tai" is taken as realtime (these hosts keep a TAI offset of 0), and so
    /// is any clock with a DATE option (<c>trace-cmd record --date</c> stores the offset to gettimeofday);
    /// x86-tsc without a TSC2NSEC conversion is raw cycles; TSC converted to ns has no known origin.
    /// </summary>
    public static TraceClockKind ClockOf(TraceDatMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string? clock = SelectedClock(metadata);
        bool converted = metadata.Tsc2Nsec is { Multiplier: > 0 };
        if (IsCycleCounter(clock) && !converted)
            return TraceClockKind.Cycles;
        if (metadata.HasDate)
            return TraceClockKind.Realtime;
        return clock switch
        {
            "tai" or "realtime" => TraceClockKind.Realtime,
            "mono" => TraceClockKind.Monotonic,
            _ => TraceClockKind.Unknown,
        };
    }

    /// <summary>The clock the trace was recorded with, as trace-cmd names it, and how its timestamps were mapped.</summary>
    public static string ClockNameOf(TraceDatMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string clock = SelectedClock(metadata) ?? "unnamed";
        if (IsCycleCounter(clock))
            clock = metadata.Tsc2Nsec is { Multiplier: > 0 } ? $"{clock} (TSC2NSEC to ns)" : $"{clock} (raw cycles, no TSC2NSEC)";
        return metadata.HasDate ? $"{clock} + --date offset (realtime)" : clock;
    }

    /// <summary>The machine: UNAME's node name, the trace id, and the GUEST / TIME_SHIFT ties to other traces.</summary>
    public static MachineIdentity MachineOf(TraceDatMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        // UNAME is "sysname nodename release machine" (uname -s -n -r -m).
        var uname = metadata.Uname?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? hostName = uname is { Length: >= 2 } ? uname[1] : null;
        return new MachineIdentity(hostName, metadata.TraceId, metadata.TimeShift?.PeerTraceId,
            metadata.Guests.Count > 0 ? metadata.Guests.Select(g => g.TraceId).ToList() : null);
    }

    private static string? SelectedClock(TraceDatMetadata metadata) =>
        metadata.Buffers.FirstOrDefault(b => b.Name.Length == 0)?.Clock ?? metadata.TraceClock;

    private static bool IsCycleCounter(string? clock) => clock is "x86-tsc" or "counter" or "tsc2nsec";

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _compression?.Dispose();
            _file.Dispose();
        }
    }
}
