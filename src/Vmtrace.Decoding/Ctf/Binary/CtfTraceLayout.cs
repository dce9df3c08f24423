namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Everything resolved from the metadata before the first byte of data: the packet header program and,
/// per stream class, the packet context and event header programs (event-class programs follow on first use).
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
            // LTTng kernel: tid context; LTTng UST: vtid; perf: perf_tid in the payload.
            int tid = First(streamCtx.FindLeaf("tid"), eventCtx.FindLeaf("tid"), streamCtx.FindLeaf("vtid"), eventCtx.FindLeaf("vtid"),
                streamCtx.FindLeaf("perf_tid"), eventCtx.FindLeaf("perf_tid"), payload.FindLeaf("perf_tid"));
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
