namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// A CTF 1.8 trace directory (LTTng kernel or UST, perf's <c>perf data convert --to-ctf</c>): the
/// metadata file plus one file per stream, merged by timestamp with a min-heap. Events of a stream
/// come in file order; slightly backwards timestamps (old LTTng) are delivered and counted as
/// out of order.
/// </summary>
public sealed class CtfTraceSource : EventSource
{
    private readonly CtfStreamReader[] _streams;
    private readonly TimeOrderedMerge _merge;
    private readonly long _totalBytes;
    private readonly int _firstCpuCount;

    private CtfTraceSource(string directory, CtfMetadata metadata, CtfTraceLayout layout, IReadOnlyList<string> files)
    {
        Description = directory;
        Metadata = metadata;
        var lost = EventType.CreateLostEvents();
        var streams = new List<CtfStreamReader>();
        try
        {
            foreach (var f in files)
                streams.Add(new CtfStreamReader(layout, f, Diagnostics, lost));
        }
        catch
        {
            foreach (var s in streams)
                s.Dispose();
            throw;
        }
        _streams = [.. streams];
        _merge = new TimeOrderedMerge(_streams.Length);
        _totalBytes = _streams.Sum(s => s.Length);
        _firstCpuCount = _streams.Length == 0 ? 0 : _streams.Max(s => s.ProbeFirstPacketCpu()) + 1;
        var clock = layout.Streams.Values.Select(s => s.Clock).FirstOrDefault();
        Clock = clock is not null && (clock.OffsetSeconds != 0 || clock.OffsetCycles != 0) ? TraceClockKind.Realtime : TraceClockKind.Unknown;
        string clockName = clock is null || clock.Name.Length == 0 ? "unnamed" : clock.Name;
        ClockName = Clock == TraceClockKind.Realtime ? $"{clockName} + offset (realtime)" : clockName;
        Machine = metadata.Environment.TryGetValue("hostname", out var hostName) && hostName.Length > 0 ? new MachineIdentity(hostName) : null;
    }

    /// <summary>Opens the CTF trace in <paramref name="directory"/> (its <c>metadata</c> file and stream files).</summary>
    public static EventSource Open(string directory) => OpenTrace(directory);

    /// <summary>Same as <see cref="Open"/>, typed, for callers that want the metadata.</summary>
    /// <param name="directory">The trace directory.</param>
    /// <param name="buildAllEventClasses">Build every event class's decoder now rather than when its first event
    /// appears (so that reading allocates nothing at all; tests and benchmarks).</param>
    public static CtfTraceSource OpenTrace(string directory, bool buildAllEventClasses = false)
    {
        string metadataFile = Path.Combine(directory, "metadata");
        if (!File.Exists(metadataFile))
            throw new TraceFormatException(directory, 0, "not a CTF trace: no 'metadata' file");
        var metadata = CtfMetadata.Load(metadataFile);
        var layout = CtfTraceLayout.Build(metadata, metadataFile);
        if (buildAllEventClasses)
        {
            foreach (var stream in layout.Streams.Values)
                stream.CompileAll();
        }
        var files = Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f) is var n && n != "metadata" && !n.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
        var source = new CtfTraceSource(directory, metadata, layout, files);
        foreach (var warning in metadata.Warnings)
            source.Diagnostics.AddError(new TraceFormatException(metadataFile, -1, warning), 0);
        return source;
    }

    public CtfMetadata Metadata { get; }

    /// <summary>Every stream file's packets (offset and size in bytes), reading only their headers.</summary>
    internal static List<(string File, long Offset, long Bytes)> ListPackets(string directory)
    {
        using var trace = OpenTrace(directory);
        return trace._streams.SelectMany(s => s.ListPackets().Select(p => (s.File, p.Offset, p.Bytes))).ToList();
    }

    public override string Description { get; }

    public override TraceClockKind Clock { get; }

    public override string ClockName { get; }

    public override MachineIdentity? Machine { get; }

    public override TraceEvent Current => _streams[_merge.Current].Current;

    public override double Progress
    {
        get
        {
            if (_totalBytes == 0)
                return 1;
            long consumed = 0;
            foreach (var s in _streams)
                consumed += s.Consumed;
            return (double)consumed / _totalBytes;
        }
    }

    /// <summary>The highest cpu_id of the streams' first packets (or of packets read since) + 1; 0 when packets name no CPU.</summary>
    public override int CpuCount => _streams.Length == 0 ? 0 : Math.Max(_firstCpuCount, _streams.Max(s => s.PacketCpu) + 1);

    public override bool MoveNext() => _merge.MoveNext(new Inputs(_streams));

    private readonly struct Inputs(CtfStreamReader[] streams) : IMergeInputs
    {
        public int Count => streams.Length;
        public bool Advance(int index) => streams[index].MoveNext();
        public long Timestamp(int index) => streams[index].CurrentTimestamp;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var s in _streams)
                s.Dispose();
        }
    }
}
