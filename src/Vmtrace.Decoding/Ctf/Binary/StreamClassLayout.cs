namespace Vmtrace.Decoding.Ctf;

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
