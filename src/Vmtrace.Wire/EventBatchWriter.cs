using System.Buffers;
using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>
/// The agent's batcher: <see cref="Append(in TraceEvent, int)"/> each decoded event, and when <see cref="IsFull"/>,
/// <see cref="Flush()"/> a self-contained <c>HostRecord</c> holding an <c>EventBatch</c> (columns of
/// timestamp deltas, type indexes, CPUs, tid deltas and the fields <see cref="WireEventSelection"/> keeps,
/// with its own type and string tables). Nothing is allocated per event once every event type and column
/// size has been seen; only the record itself is allocated per batch (or written to an <see cref="IBufferWriter{T}"/>).
/// </summary>
public sealed class EventBatchWriter
{
    private readonly HostRecordWriter _host;
    private readonly EventBatchWriterOptions _options;
    private readonly ProtoBuffer _timestamps;
    private readonly ProtoBuffer _typeIndexes;
    private readonly ProtoBuffer _cpus;
    private readonly ProtoBuffer _tids;
    private readonly ProtoBuffer _guestIndexes;
    private readonly ProtoBuffer _body;
    private readonly Utf8Interner _strings = new();
    private readonly List<WireTypePlan> _batchTypes = [];
    private readonly Dictionary<string, WireTypePlan> _plansBySignature = new(StringComparer.Ordinal);
    private WireTypePlan?[] _plans = new WireTypePlan?[64];
    private LastTidByCpu _lastTid = new();
    private long _generation;
    private long _previousTimestamp;
    private long _firstTimestamp;
    private int _fieldBytes;
    private long _skippedInBatch;
    private long[] _eventsByCpu = new long[65];
    private byte[][] _guestNames = [];
    private bool _batchHasGuests;

    public EventBatchWriter(HostRecordWriter host, EventBatchWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _options = options ?? new EventBatchWriterOptions();
        _options.Validate();
        // Sized once for a full batch (typical bytes per event of each column), so they do not grow while events come.
        int events = Math.Min(_options.MaxEvents, _options.MaxBytes);
        _timestamps = new ProtoBuffer(Math.Min(events * 3, _options.MaxBytes) + Varint.MaxLength);
        _typeIndexes = new ProtoBuffer(events + Varint.MaxLength);
        _cpus = new ProtoBuffer(events + Varint.MaxLength);
        _tids = new ProtoBuffer(Math.Min(events * 2, _options.MaxBytes) + Varint.MaxLength);
        _guestIndexes = new ProtoBuffer(events + Varint.MaxLength);
        _body = new ProtoBuffer(Math.Min(events * 8, _options.MaxBytes * 2));
    }

    /// <summary>The source's clock, sent in every batch.</summary>
    public TraceClockKind Clock { get; set; }

    /// <summary>The host's CPU count (0 = unknown), sent in every batch.</summary>
    public int CpuCount { get; set; }

    /// <summary>
    /// The guests whose events are streamed with the host's (<see cref="Append(in TraceEvent, int)"/>'s guest n is
    /// <c>GuestNames[n - 1]</c>); a batch holding some of their events carries the names and schema version 3.
    /// </summary>
    public IReadOnlyList<string> GuestNames
    {
        get => [.. _guestNames.Select(System.Text.Encoding.UTF8.GetString)];
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (EventCount > 0)
                throw new InvalidOperationException("the guests are set before the first event of a batch");
            _guestNames = [.. value.Select(System.Text.Encoding.UTF8.GetBytes)];
        }
    }

    /// <summary>Events in the batch being built.</summary>
    public int EventCount { get; private set; }

    /// <summary>Events dropped by the selection, over the writer's life.</summary>
    public long SkippedEvents { get; private set; }

    /// <summary>Events appended to batches, over the writer's life.</summary>
    public long WrittenEvents { get; private set; }

    /// <summary>
    /// Events given to <see cref="Append(in TraceEvent, int)"/> (taken or left out by the selection) over the writer's life, per CPU: index 0
    /// holds the events without a CPU (-1), index i + 1 those of CPU i. Grows (rarely) with the highest CPU seen.
    /// </summary>
    public IReadOnlyList<long> EventsByCpu => _eventsByCpu;

    /// <summary>Bytes of the batch's columns so far (before the type and string tables and compression).</summary>
    public int PendingBytes => _timestamps.Length + _typeIndexes.Length + _cpus.Length + _tids.Length + _fieldBytes;

    /// <summary>True when the batch should be flushed: it reached the event, byte or time-span limit.</summary>
    public bool IsFull => EventCount > 0 && (EventCount >= _options.MaxEvents || PendingBytes >= _options.MaxBytes
        || _previousTimestamp - _firstTimestamp >= _options.MaxSpanNs);

    /// <summary>Adds one event of the host to the batch; false when the selection drops it (counted in <see cref="SkippedEvents"/>).</summary>
    public bool Append(in TraceEvent e) => Append(e, 0);

    /// <summary>
    /// Adds one event to the batch: the host's (<paramref name="guest"/> 0) or guest n's (<see cref="GuestNames"/>[n − 1]);
    /// false when the selection drops it (counted in <see cref="SkippedEvents"/>).
    /// </summary>
    public bool Append(in TraceEvent e, int guest) => Append(e, guest, 0);

    /// <summary>
    /// <see cref="Append(in TraceEvent, int)"/> with the event's time plus <paramref name="shiftNs"/> (a replay shifted in
    /// time): what <see cref="TraceEvent.WithTimestamp"/> would send, without a copy of the event.
    /// </summary>
    public bool Append(in TraceEvent e, int guest, long shiftNs)
    {
        if ((uint)guest > (uint)_guestNames.Length)
            throw new ArgumentOutOfRangeException(nameof(guest), guest, $"guest {guest}, but {_guestNames.Length} guests are set");
        CountCpu(e.Cpu);
        var plan = PlanOf(e.Type);
        if (plan.Dropped)
        {
            SkippedEvents++;
            _skippedInBatch++;
            return false;
        }
        int cpu = e.Cpu;
        if (cpu < -1 || cpu > WireSchema.MaxCpu)
            throw new ArgumentOutOfRangeException(nameof(e), cpu, $"event CPU {cpu} is outside -1..{WireSchema.MaxCpu}");
        if (plan.BatchGeneration != _generation)
            AddTypeToBatch(plan);

        long ts = e.Timestamp + shiftNs;
        if (EventCount == 0)
            _firstTimestamp = ts;
        _timestamps.WriteSigned(ts - _previousTimestamp);
        _previousTimestamp = ts;
        _typeIndexes.WriteVarint((uint)plan.BatchIndex);
        _cpus.WriteSigned(cpu);
        int tid = e.Tid;
        ref int lastTid = ref _lastTid.For(cpu);
        _tids.WriteSigned((long)tid - lastTid);
        lastTid = tid;
        if (_guestNames.Length > 0)
        {
            _guestIndexes.WriteVarint((uint)guest);
            _batchHasGuests |= guest != 0;
        }

        var slots = plan.Slots;
        if (slots.Length > 0)
            AppendFields(e, plan, tid);
        EventCount++;
        WrittenEvents++;
        return true;
    }

    private void CountCpu(int cpu)
    {
        int slot = cpu + 1;
        if ((uint)slot < (uint)_eventsByCpu.Length)
        {
            _eventsByCpu[slot]++;
            return;
        }
        if (cpu < -1 || cpu > WireSchema.MaxCpu)
            return; // refused by Append (unless the selection drops it), not counted
        // A higher CPU than seen so far: once per new CPU range, never per event.
        var grown = new long[Math.Min(WireSchema.MaxCpu + 2, Math.Max(slot + 1, _eventsByCpu.Length * 2))];
        _eventsByCpu.CopyTo(grown, 0);
        grown[slot]++;
        _eventsByCpu = grown;
    }

    private void AppendFields(in TraceEvent e, WireTypePlan plan, int tid)
    {
        int row = plan.Rows++;
        // The plan's arrays in locals: loaded once per event rather than once per field.
        var slots = plan.Slots;
        var values = plan.Values;
        var encodings = plan.Encodings;
        var optional = plan.Optional;
        int added = 0;
        for (int k = 0; k < slots.Length; k++)
        {
            int slot = slots[k];
            var column = values[k];
            if (optional[k] && !e.IsPresent(slot))
            {
                added += plan.AbsentRows[k].WriteVarintCounted((uint)row);
                added += column.WriteVarintCounted(0);
                continue;
            }
            long v;
            switch (encodings[k])
            {
                case ColumnEncoding.StringIndex:
                    v = _strings.Intern(e.GetBytes(slot));
                    break;
                case ColumnEncoding.MinusTid:
                    v = e.GetInt64(slot) - tid;
                    break;
                case ColumnEncoding.Delta:
                    long raw = e.GetInt64(slot);
                    v = raw - plan.Previous[k];
                    plan.Previous[k] = raw;
                    break;
                default:
                    v = e.GetInt64(slot);
                    break;
            }
            added += column.WriteVarintCounted(Varint.ZigZag(v));
        }
        _fieldBytes += added;
    }

    /// <summary>Ends the batch: returns its <c>HostRecord</c> (the Kafka value) and starts a new batch.</summary>
    public byte[] Flush()
    {
        BuildBody();
        var record = _host.Wrap(WireSchema.RecordEvents, _body.Written, _batchHasGuests);
        StartBatch();
        return record;
    }

    /// <summary>Ends the batch, writing its <c>HostRecord</c> to <paramref name="output"/>.</summary>
    public void Flush(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        BuildBody();
        _host.Wrap(WireSchema.RecordEvents, _body.Written, output, _batchHasGuests);
        StartBatch();
    }

    private void BuildBody()
    {
        var b = _body;
        b.Clear();
        b.WriteVarintField(WireSchema.BatchEventCount, (uint)EventCount);
        b.WriteVarintField(WireSchema.BatchClock, (ulong)Clock);
        b.WriteVarintField(WireSchema.BatchCpuCount, (ulong)Math.Max(0, CpuCount));
        foreach (var plan in _batchTypes)
            b.WriteBytesField(WireSchema.BatchTypes, plan.Descriptor, omitEmpty: false);
        for (int i = 0; i < _strings.Count; i++)
            b.WriteBytesField(WireSchema.BatchStrings, _strings[i], omitEmpty: false);
        b.WriteBytesField(WireSchema.BatchTimestampDeltas, _timestamps.Written);
        b.WriteBytesField(WireSchema.BatchTypeIndexes, _typeIndexes.Written);
        b.WriteBytesField(WireSchema.BatchCpus, _cpus.Written);
        b.WriteBytesField(WireSchema.BatchTidDeltas, _tids.Written);
        foreach (var plan in _batchTypes)
        {
            for (int k = 0; k < plan.Slots.Length; k++)
            {
                var values = plan.Values[k].Written;
                var absent = plan.AbsentRows[k].Written;
                int size = ProtoBuffer.FieldSize(WireSchema.ColumnValues, values.Length)
                    + (absent.IsEmpty ? 0 : ProtoBuffer.FieldSize(WireSchema.ColumnAbsentRows, absent.Length));
                b.WriteTag(WireSchema.BatchColumns, WireType.LengthDelimited);
                b.WriteVarint((ulong)size);
                b.WriteBytesField(WireSchema.ColumnValues, values, omitEmpty: false);
                b.WriteBytesField(WireSchema.ColumnAbsentRows, absent);
            }
        }
        b.WriteVarintField(WireSchema.BatchSkippedEvents, (ulong)_skippedInBatch);
        if (_batchHasGuests)
        {
            b.WriteBytesField(WireSchema.BatchGuestIndexes, _guestIndexes.Written);
            foreach (var name in _guestNames)
                b.WriteBytesField(WireSchema.BatchGuests, name, omitEmpty: false);
        }
    }

    private void StartBatch()
    {
        _generation++;
        _batchTypes.Clear();
        _strings.Clear();
        _timestamps.Clear();
        _typeIndexes.Clear();
        _cpus.Clear();
        _tids.Clear();
        _guestIndexes.Clear();
        _batchHasGuests = false;
        _lastTid.Reset();
        _previousTimestamp = 0;
        _fieldBytes = 0;
        _skippedInBatch = 0;
        EventCount = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private WireTypePlan PlanOf(EventType type)
    {
        int id = type.Id;
        if ((uint)id < (uint)_plans.Length && _plans[id] is { } plan)
            return plan;
        return NewPlan(type);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WireTypePlan NewPlan(EventType type)
    {
        if (type.Id >= _plans.Length)
            Array.Resize(ref _plans, Math.Max(type.Id + 1, _plans.Length * 2));
        // A source reopened (the next trace file, a restarted tracer) builds new but identical types: they
        // share the plan, so its column buffers, already grown, are reused.
        string signature = Signature(type);
        if (!_plansBySignature.TryGetValue(signature, out var plan))
        {
            plan = new WireTypePlan(type, _options.DropUninterpretedEvents && type.Known == KnownEvent.Unknown);
            _plansBySignature.Add(signature, plan);
        }
        _plans[type.Id] = plan;
        return plan;
    }

    private static string Signature(EventType type)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(type.System).Append('\u0001').Append(type.Name);
        foreach (var f in type.Fields)
            sb.Append('\u0001').Append(f.Name).Append('\u0002').Append((int)f.Kind).Append('\u0002').Append(f.DisplayBase)
                .Append('\u0002').Append((int)f.ElementKind).Append('\u0002').Append(f.Optional ? '1' : '0');
        return sb.ToString();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddTypeToBatch(WireTypePlan plan)
    {
        if (_batchTypes.Count >= WireSchema.MaxTypes)
            throw new InvalidOperationException($"more than {WireSchema.MaxTypes} event types in one batch");
        plan.BeginBatch(_batchTypes.Count, _generation);
        _batchTypes.Add(plan);
    }
}
