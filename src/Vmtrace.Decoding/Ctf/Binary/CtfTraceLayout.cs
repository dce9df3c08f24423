namespace Vmtrace.Decoding.Ctf;

/// <summary>How one event class of one stream class decodes: its type and program (contexts + payload).</summary>
internal sealed class EventClassLayout(EventType type, DecodeProgram program, int tidRegister, int cpuRegister)
{
    public EventType Type { get; } = type;
    public DecodeProgram Program { get; } = program;
    /// <summary>Register of the context field tid (LTTng) or perf_tid (perf), or -1.</summary>
    public int TidRegister { get; } = tidRegister;
    /// <summary>Register of perf_cpu, used when the packet context has no cpu_id; -1 when absent.</summary>
    public int CpuRegister { get; } = cpuRegister;
}

/// <summary>
/// How the packets and events of one stream class decode. Packet context and event header programs are
/// built when the trace opens; an event class's program is built the first time one of its events
/// appears (kernel metadata declares a thousand classes, a trace uses a few dozen).
/// </summary>
internal sealed class StreamClassLayout
{
    private readonly CtfEventClass?[] _classesDense;
    private readonly Dictionary<long, CtfEventClass> _classesSparse;
    private readonly EventClassLayout?[] _dense;
    private readonly Dictionary<long, EventClassLayout> _sparse = [];
    private readonly Func<CtfEventClass, EventClassLayout> _compile;

    public StreamClassLayout(CtfStreamClass streamClass, DecodeProgram packetContext, RegisterScope contextScope, DecodeProgram eventHeader,
        CtfClock clock, IReadOnlyList<CtfEventClass> events, Func<CtfEventClass, EventClassLayout> compile)
    {
        StreamClass = streamClass;
        PacketContext = packetContext;
        EventHeader = eventHeader;
        Clock = clock;
        _compile = compile;
        TimestampBeginRegister = contextScope.FindLeaf("timestamp_begin");
        ContentSizeRegister = contextScope.FindLeaf("content_size");
        PacketSizeRegister = contextScope.FindLeaf("packet_size");
        EventsDiscardedRegister = contextScope.FindLeaf("events_discarded");
        CpuIdRegister = contextScope.FindLeaf("cpu_id");
        SequenceNumberRegister = contextScope.FindLeaf("packet_seq_num");
        _classesSparse = [];
        long maxDense = 0;
        foreach (var ec in events)
        {
            _classesSparse.TryAdd(ec.Id, ec);
            if (ec.Id >= 0 && ec.Id < 1 << 20)
                maxDense = Math.Max(maxDense, ec.Id + 1);
        }
        _classesDense = new CtfEventClass?[maxDense];
        _dense = new EventClassLayout?[maxDense];
        foreach (var (id, ec) in _classesSparse)
        {
            if (id >= 0 && id < maxDense)
                _classesDense[id] = ec;
        }
    }

    public CtfStreamClass StreamClass { get; }
    public DecodeProgram PacketContext { get; }
    public DecodeProgram EventHeader { get; }
    public CtfClock Clock { get; }
    public int TimestampBeginRegister { get; }
    public int ContentSizeRegister { get; }
    public int PacketSizeRegister { get; }
    public int EventsDiscardedRegister { get; }
    public int CpuIdRegister { get; }
    public int SequenceNumberRegister { get; }

    /// <summary>The layout of an event class id, built on first use; null when the metadata has no such class.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public EventClassLayout? Find(long id)
    {
        if ((ulong)id < (ulong)_dense.Length && _dense[id] is { } known)
            return known;
        return FindSlow(id);
    }

    /// <summary>Builds every event class now instead of on first use.</summary>
    public void CompileAll()
    {
        foreach (var id in _classesSparse.Keys)
            Find(id);
    }

    private EventClassLayout? FindSlow(long id)
    {
        if (_sparse.TryGetValue(id, out var built))
            return built;
        var ec = (ulong)id < (ulong)_classesDense.Length ? _classesDense[id] : _classesSparse.GetValueOrDefault(id);
        if (ec is null)
            return null;
        var layout = _compile(ec);
        _sparse[id] = layout;
        if ((ulong)id < (ulong)_dense.Length)
            _dense[id] = layout;
        return layout;
    }
}

/// <summary>
/// Everything resolved from the metadata before the first byte of data: the packet header program and,
/// per stream class, the packet context, event header and per-event-class programs.
/// </summary>
internal sealed class CtfTraceLayout
{
    public const uint PacketMagic = 0xC1FC1FC1;

    private CtfTraceLayout(CtfMetadata metadata, DecodeProgram packetHeader, EventType packetHeaderType, int magicSlot, int uuidSlot,
        int streamIdSlot, Dictionary<long, StreamClassLayout> streams)
    {
        Metadata = metadata;
        PacketHeader = packetHeader;
        PacketHeaderType = packetHeaderType;
        MagicSlot = magicSlot;
        UuidSlot = uuidSlot;
        StreamIdSlot = streamIdSlot;
        Streams = streams;
        DefaultStreamId = streams.Keys.First();
    }

    public CtfMetadata Metadata { get; }
    /// <summary>Decodes into slots of <see cref="PacketHeaderType"/> (once per packet, so uuid bytes can be checked).</summary>
    public DecodeProgram PacketHeader { get; }
    public EventType PacketHeaderType { get; }
    public int MagicSlot { get; }
    public int UuidSlot { get; }
    public int StreamIdSlot { get; }
    public Dictionary<long, StreamClassLayout> Streams { get; }
    /// <summary>The stream class of packets whose header has no stream_id (the first declared).</summary>
    public long DefaultStreamId { get; }

    public static CtfTraceLayout Build(CtfMetadata metadata, string metadataFile)
    {
        try
        {
            return BuildCore(metadata, metadataFile);
        }
        catch (TraceFormatException ex) when (ex.File == "metadata")
        {
            throw new TraceFormatException(metadataFile, -1, ex.Problem, ex);
        }
    }

    private static CtfTraceLayout BuildCore(CtfMetadata metadata, string metadataFile)
    {
        var order = metadata.ByteOrder;
        var headerCompiler = new DecodeProgramCompiler(order, [], 0);
        var headerScope = headerCompiler.AddScope("trace.packet.header", metadata.PacketHeader, slotGroup: 0, slotPrefix: "", headerRoles: false);
        var packetHeader = headerCompiler.Build();
        var packetHeaderType = new EventType("ctf_packet_header", packetHeader.Fields);
        int firstFree = headerCompiler.RegisterCount;

        var streams = new Dictionary<long, StreamClassLayout>();
        var streamClasses = metadata.Streams.Count > 0 ? metadata.Streams : [new CtfStreamClass { Id = 0 }];
        foreach (var sc in streamClasses)
        {
            var ctxCompiler = new DecodeProgramCompiler(order, [headerScope], firstFree);
            var contextScope = ctxCompiler.AddScope("stream.packet.context", sc.PacketContext, slotGroup: -1, slotPrefix: "", headerRoles: false);
            var packetContext = ctxCompiler.Build();

            var evhCompiler = new DecodeProgramCompiler(order, [headerScope, contextScope], ctxCompiler.RegisterCount);
            var eventHeaderScope = evhCompiler.AddScope("stream.event.header", sc.EventHeader, slotGroup: -1, slotPrefix: "", headerRoles: true);
            var eventHeader = evhCompiler.Build();
            int eventBase = evhCompiler.RegisterCount;

            var clock = FindClock(metadata, sc.EventHeader) ?? new CtfClock { Name = "default" };
            var classes = metadata.Events.Where(e => e.StreamId == sc.Id || streamClasses.Count == 1).ToList();
            var outer = new[] { headerScope, contextScope, eventHeaderScope };
            var streamClass = sc;
            streams[sc.Id] = new StreamClassLayout(sc, packetContext, contextScope, eventHeader, clock, classes,
                ec => CompileEventClass(order, outer, eventBase, streamClass, ec, metadataFile));
        }
        return new CtfTraceLayout(metadata, packetHeader, packetHeaderType, headerScope.FindLeaf("magic") >= 0 ? packetHeaderType.IndexOf("magic") : -1,
            packetHeaderType.IndexOf("uuid"), packetHeaderType.IndexOf("stream_id"), streams);
    }

    private static EventClassLayout CompileEventClass(CtfByteOrder order, RegisterScope[] outer, int firstRegister, CtfStreamClass sc,
        CtfEventClass ec, string metadataFile)
    {
        try
        {
            var c = new DecodeProgramCompiler(order, outer, firstRegister);
            var streamCtx = c.AddScope("stream.event.context", sc.EventContext, slotGroup: 1, slotPrefix: "context.", headerRoles: false);
            var eventCtx = c.AddScope("event.context", ec.Context, slotGroup: 1, slotPrefix: "context.", headerRoles: false);
            var payload = c.AddScope("event.fields", ec.Payload, slotGroup: 0, slotPrefix: "", headerRoles: false);
            var program = c.Build();
            int tid = First(streamCtx.FindLeaf("tid"), eventCtx.FindLeaf("tid"), streamCtx.FindLeaf("perf_tid"),
                eventCtx.FindLeaf("perf_tid"), payload.FindLeaf("perf_tid"));
            int cpu = First(streamCtx.FindLeaf("perf_cpu"), eventCtx.FindLeaf("perf_cpu"), payload.FindLeaf("perf_cpu"));
            return new EventClassLayout(new EventType(ec.Name, program.Fields), program, tid, cpu);
        }
        catch (TraceFormatException ex) when (ex.File == "metadata")
        {
            throw new TraceFormatException(metadataFile, -1, $"event class {ec.Name} (id {ec.Id}): {ex.Problem}", ex);
        }
    }

    private static int First(params int[] registers) => registers.FirstOrDefault(r => r >= 0, -1);

    /// <summary>The clock the event header's timestamp maps to, else the trace's only clock.</summary>
    private static CtfClock? FindClock(CtfMetadata metadata, CtfStruct? header)
    {
        var mapped = header is null ? null : FindMappedClock(header);
        if (mapped is not null && metadata.Clocks.TryGetValue(mapped, out var clock))
            return clock;
        return metadata.Clocks.Values.FirstOrDefault();
    }

    private static string? FindMappedClock(CtfType type) => type switch
    {
        CtfInteger i => i.MappedClock,
        CtfEnum e => e.Container.MappedClock,
        CtfStruct s => s.Fields.Select(f => FindMappedClock(f.Type)).FirstOrDefault(c => c is not null),
        CtfVariant v => v.Options.Select(f => FindMappedClock(f.Type)).FirstOrDefault(c => c is not null),
        _ => null,
    };
}
