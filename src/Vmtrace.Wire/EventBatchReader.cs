using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>
/// The worker's side: replays the events of one <c>EventBatch</c> record as an <see cref="EventSource"/>,
/// with event types rebuilt from the batch's type table (through a shared <see cref="WireTypeCache"/>),
/// so the worker feeds <c>HostAnalysis</c> exactly as <c>vmtrace analyze</c> does. Reusable: <see cref="Load(byte[])"/>
/// the next record into the same reader; nothing is allocated per event. Every value is checked as it is
/// read: a damaged record throws <see cref="WireFormatException"/> naming the column and byte offset.
/// </summary>
public sealed class EventBatchReader : EventSource
{
    private readonly WireTypeCache _cache;
    private readonly EventRecordBuffer _buffer = new();
    private byte[] _data = [];
    private WireEventType[] _types = new WireEventType[16];
    private int _typeCount;
    private int[] _typeFirstColumn = new int[16];
    private int[] _typeRows = new int[16];
    private int[] _stringStart = new int[64];
    private int[] _stringLength = new int[64];
    private int _stringCount;
    private Column[] _columns = new Column[64];
    private int _columnCount;
    private LastTidByCpu _lastTid = new();
    private LastTidByCpu _scanTid = new();
    private int[] _scanRows = new int[16];
    private Column _timestamps, _typeIndexes, _cpus, _tids, _guestIndexes;
    private readonly List<string> _guestNames = [];
    private int _guest;
    private int _eventCount;
    private int _index;
    private long _timestamp;
    private int _cpu;
    private int _tid;
    private EventType? _type;
    private TraceClockKind _clock;
    private int _cpuCountOfBatch;
    private string _description = "wire batch (none loaded)";

    private struct Column
    {
        public int Pos;
        public int End;
        public int AbsentPos;
        public int AbsentEnd;
        public long NextAbsent;
        public long Previous;
        public int Start;
    }

    public EventBatchReader(WireTypeCache? cache = null) => _cache = cache ?? new WireTypeCache();

    public override string Description => _description;

    public override TraceClockKind Clock => _clock;

    public override int CpuCount => _cpuCountOfBatch;

    public override double Progress => _eventCount == 0 ? 1 : (double)_index / _eventCount;

    /// <summary>Events in the loaded batch.</summary>
    public int EventCount => _eventCount;

    /// <summary>Events the agent's selection dropped before this batch.</summary>
    public long SkippedEvents { get; private set; }

    /// <summary>The guests named in the batch (schema version 3): <see cref="CurrentGuest"/> n is <c>GuestNames[n − 1]</c>.</summary>
    public IReadOnlyList<string> GuestNames => _guestNames;

    /// <summary>Whose the current event is: 0 for the host, n for guest <c>GuestNames[n − 1]</c>.</summary>
    public int CurrentGuest => _guest;

    /// <summary>The loaded record's envelope.</summary>
    public HostRecord? Record { get; private set; }

    /// <summary>Loads an <c>EventBatch</c> record (a Kafka value); its events are then pulled with <see cref="MoveNext"/>.</summary>
    public void Load(byte[] record)
    {
        var header = HostRecord.Read(record);
        Load(header);
    }

    public void Load(HostRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        record.Expect(HostRecordKind.EventBatch);
        Record = record;
        _description = "wire batch " + record.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) + " of host " + record.HostId;
        LoadBody(record.Data, record.BodyStart, record.BodyEnd);
    }

    private void LoadBody(byte[] data, int start, int end)
    {
        _data = data;
        _typeCount = 0;
        _stringCount = 0;
        _columnCount = 0;
        _eventCount = 0;
        _index = 0;
        _timestamp = 0;
        _clock = TraceClockKind.Unknown;
        _cpuCountOfBatch = 0;
        SkippedEvents = 0;
        _lastTid.Reset();
        _timestamps = _typeIndexes = _cpus = _tids = _guestIndexes = default;
        _guestNames.Clear();
        _guest = 0;
        int columnsSeen = 0;
        var r = new ProtoReader(data, start, end, "EventBatch");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.BatchEventCount:
                    uint count = r.ReadUInt32(type, "event_count");
                    if (count > end - start)
                        throw new WireFormatException(r.FieldStart, $"EventBatch.event_count {count} exceeds the batch's {end - start} bytes (every event takes at least 4)");
                    _eventCount = (int)count;
                    break;
                case WireSchema.BatchClock:
                    ulong clock = r.ReadVarint(type, "clock");
                    _clock = clock <= (ulong)TraceClockKind.Cycles ? (TraceClockKind)clock : throw new WireFormatException(r.FieldStart, $"EventBatch.clock: unknown clock {clock}");
                    break;
                case WireSchema.BatchCpuCount:
                    uint cpus = r.ReadUInt32(type, "cpu_count");
                    _cpuCountOfBatch = cpus <= WireSchema.MaxCpu + 1 ? (int)cpus : throw new WireFormatException(r.FieldStart, $"EventBatch.cpu_count {cpus} is too large");
                    break;
                case WireSchema.BatchTypes:
                    var (ts, te) = r.ReadLengthDelimited(type, "event_types");
                    AddType(_cache.Get(data, ts, te), r.FieldStart);
                    break;
                case WireSchema.BatchStrings:
                    var (ss, se) = r.ReadLengthDelimited(type, "strings");
                    AddString(ss, se - ss);
                    break;
                case WireSchema.BatchTimestampDeltas: _timestamps = Packed(ref r, type, "timestamp_deltas", _timestamps); break;
                case WireSchema.BatchTypeIndexes: _typeIndexes = Packed(ref r, type, "type_indexes", _typeIndexes); break;
                case WireSchema.BatchCpus: _cpus = Packed(ref r, type, "cpus", _cpus); break;
                case WireSchema.BatchTidDeltas: _tids = Packed(ref r, type, "tid_deltas", _tids); break;
                case WireSchema.BatchColumns:
                    var (cs, ce) = r.ReadLengthDelimited(type, "columns");
                    AddColumn(cs, ce, columnsSeen++);
                    break;
                case WireSchema.BatchGuestIndexes: _guestIndexes = Packed(ref r, type, "guest_indexes", _guestIndexes); break;
                case WireSchema.BatchGuests:
                    if (_guestNames.Count >= WireSchema.MaxTypes)
                        throw new WireFormatException(r.FieldStart, $"EventBatch: more than {WireSchema.MaxTypes} guests");
                    _guestNames.Add(r.ReadString(type, "guests"));
                    break;
                case WireSchema.BatchSkippedEvents:
                    SkippedEvents = (long)Math.Min(r.ReadVarint(type, "skipped_events"), long.MaxValue);
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }
        AssignColumns(columnsSeen, end);
    }

    private static Column Packed(ref ProtoReader r, WireType type, string name, Column existing)
    {
        if (existing.End != 0)
            throw new WireFormatException(r.FieldStart, $"EventBatch.{name} appears twice");
        var (s, e) = r.ReadLengthDelimited(type, name + " (packed)");
        return new Column { Start = s, Pos = s, End = e };
    }

    private void AddType(WireEventType t, int offset)
    {
        if (_typeCount >= WireSchema.MaxTypes)
            throw new WireFormatException(offset, $"EventBatch: more than {WireSchema.MaxTypes} types");
        if (_typeCount == _types.Length)
        {
            Array.Resize(ref _types, _typeCount * 2);
            Array.Resize(ref _typeFirstColumn, _typeCount * 2);
            Array.Resize(ref _typeRows, _typeCount * 2);
        }
        _types[_typeCount++] = t;
    }

    private void AddString(int start, int length)
    {
        if (_stringCount == _stringStart.Length)
        {
            Array.Resize(ref _stringStart, _stringCount * 2);
            Array.Resize(ref _stringLength, _stringCount * 2);
        }
        _stringStart[_stringCount] = start;
        _stringLength[_stringCount++] = length;
    }

    private void AddColumn(int start, int end, int index)
    {
        var c = new Column { NextAbsent = long.MaxValue };
        bool sawValues = false;
        var r = new ProtoReader(_data, start, end, $"FieldColumn {index}");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.ColumnValues when !sawValues:
                    (c.Pos, c.End) = r.ReadLengthDelimited(type, "values");
                    c.Start = c.Pos;
                    sawValues = true;
                    break;
                case WireSchema.ColumnAbsentRows when c.AbsentEnd == 0:
                    (c.AbsentPos, c.AbsentEnd) = r.ReadLengthDelimited(type, "absent_rows");
                    c.NextAbsent = c.AbsentPos < c.AbsentEnd ? (long)Varint.Read(_data, ref c.AbsentPos, c.AbsentEnd, $"FieldColumn {index}.absent_rows") : long.MaxValue;
                    break;
                case WireSchema.ColumnValues:
                case WireSchema.ColumnAbsentRows:
                    throw new WireFormatException(r.FieldStart, $"FieldColumn {index}: a packed field appears twice");
                default:
                    r.Skip(type);
                    break;
            }
        }
        if (_columnCount == _columns.Length)
            Array.Resize(ref _columns, _columnCount * 2);
        _columns[_columnCount++] = c;
    }

    private void AssignColumns(int columnsSeen, int end)
    {
        int needed = 0;
        for (int i = 0; i < _typeCount; i++)
        {
            _typeFirstColumn[i] = needed;
            _typeRows[i] = 0;
            needed += _types[i].Type.Fields.Length;
        }
        if (needed != columnsSeen)
            throw new WireFormatException(end, $"EventBatch: {columnsSeen} field columns for types that have {needed} fields");
        if (_eventCount > 0 && (_timestamps.End == 0 || _typeIndexes.End == 0 || _cpus.End == 0 || _tids.End == 0))
            throw new WireFormatException(end, $"EventBatch: {_eventCount} events but a timestamp, type, cpu or tid column is missing");
    }

    /// <summary>
    /// Checks the whole loaded batch before any of its events is used: afterwards <see cref="MoveNext"/> reads every event
    /// without a <see cref="WireFormatException"/>. Throws the exception a full read would throw (same column, offset and
    /// message), and leaves the reader at the batch's first event. Faster than reading every event: the columns are
    /// scanned one by one, and only the values that can be out of range (types, CPUs, tids, guests, string indexes,
    /// absent rows) are decoded; whatever the scan does not vouch for is read in full.
    /// </summary>
    public void Validate()
    {
        if (_index != 0)
            throw new InvalidOperationException("Validate checks a batch before its first event is read");
        if (ScanColumns())
            return;
        SlowValidations++;
        while (MoveNext())
        {
        }
        var record = Record!;
        LoadBody(record.Data, record.BodyStart, record.BodyEnd);
    }

    /// <summary>Batches <see cref="Validate"/> had to read in full (the scan did not vouch for them: damaged, or unusual).</summary>
    internal long SlowValidations { get; private set; }

    /// <summary>
    /// True when a full read of the batch cannot throw; false when it may (then the caller reads it in full). Mirrors
    /// <see cref="MoveNext"/>, <see cref="ReadFields"/> and <see cref="CheckAllConsumed"/> check for check, on copies of
    /// the column cursors.
    /// </summary>
    private bool ScanColumns()
    {
        var data = _data;
        int n = _eventCount;
        if (!HoldsExactly(data, _timestamps, n))
            return false;
        if (_guestIndexes.End != 0)
        {
            int gp = _guestIndexes.Pos, ge = _guestIndexes.End;
            for (int i = 0; i < n; i++)
            {
                if (!Varint.TryRead(data, ref gp, ge, out ulong guest) || guest > (ulong)_guestNames.Count)
                    return false;
            }
            if (gp != ge)
                return false;
        }

        if (_scanRows.Length < _typeCount)
            _scanRows = new int[_types.Length];
        Array.Clear(_scanRows, 0, _typeCount);
        _scanTid.Reset();
        int tp = _typeIndexes.Pos, te = _typeIndexes.End, cp = _cpus.Pos, ce = _cpus.End, dp = _tids.Pos, de = _tids.End;
        for (int i = 0; i < n; i++)
        {
            if (!Varint.TryRead(data, ref tp, te, out ulong ti) || ti >= (ulong)_typeCount)
                return false;
            _scanRows[ti]++;
            if (!Varint.TryRead(data, ref cp, ce, out ulong rawCpu))
                return false;
            long cpu = Varint.UnZigZag(rawCpu);
            if (cpu < -1 || cpu > WireSchema.MaxCpu)
                return false;
            ref int lastTid = ref _scanTid.For((int)cpu);
            if (!Varint.TryRead(data, ref dp, de, out ulong rawTid))
                return false;
            long tid = lastTid + Varint.UnZigZag(rawTid);
            if (tid is < int.MinValue or > int.MaxValue)
                return false;
            lastTid = (int)tid;
        }
        if (tp < te || cp < ce || dp < de)
            return false;

        for (int i = 0; i < _typeCount; i++)
        {
            var wt = _types[i];
            int rows = _scanRows[i];
            int first = _typeFirstColumn[i];
            for (int k = 0; k < wt.Type.Fields.Length; k++)
            {
                var c = _columns[first + k];
                bool ok = wt.Encodings[k] == ColumnEncoding.StringIndex || c.AbsentEnd != 0 || c.NextAbsent != long.MaxValue
                    ? ScanValues(data, c, rows, wt.Encodings[k] == ColumnEncoding.StringIndex)
                    : HoldsExactly(data, c, rows);
                if (!ok)
                    return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The column holds exactly <paramref name="count"/> varints and nothing after them. Counts the bytes that end a
    /// varint (top bit clear); a varint of 9 or more continuation bytes (which may exceed 64 bits) is left to the full read.
    /// </summary>
    private static bool HoldsExactly(byte[] data, in Column c, int count)
    {
        if (c.Pos >= c.End)
            return count == 0;
        if (data[c.End - 1] >= 0x80)
            return false;
        var bytes = data.AsSpan(c.Pos, c.End - c.Pos);
        int ends = 0, run = 0;
        foreach (byte b in bytes)
        {
            int more = b >> 7;
            ends += more ^ 1;
            run = (run + more) * more;
            if (run >= Varint.MaxLength - 1)
                return false;
        }
        return ends == count;
    }

    /// <summary>A field column read value by value, as <see cref="ReadFields"/> reads it (absent rows, string indexes).</summary>
    private bool ScanValues(byte[] data, Column c, int rows, bool strings)
    {
        for (int row = 0; row < rows; row++)
        {
            if (!Varint.TryRead(data, ref c.Pos, c.End, out ulong raw))
                return false;
            if (row == c.NextAbsent)
            {
                if (c.AbsentPos >= c.AbsentEnd)
                {
                    c.NextAbsent = long.MaxValue;
                    continue;
                }
                if (!Varint.TryRead(data, ref c.AbsentPos, c.AbsentEnd, out ulong rawNext) || (long)rawNext <= row)
                    return false;
                c.NextAbsent = (long)rawNext;
                continue;
            }
            if (strings && (ulong)Varint.UnZigZag(raw) >= (ulong)_stringCount)
                return false;
        }
        return c.Pos >= c.End && c.NextAbsent == long.MaxValue && c.AbsentPos >= c.AbsentEnd;
    }

    public override TraceEvent Current => _type is null
        ? throw new InvalidOperationException("no current event: call MoveNext first")
        : _buffer.View(_timestamp, _cpu, _tid, _type);

    public override bool MoveNext()
    {
        if (_index >= _eventCount)
        {
            if (_index == _eventCount)
                CheckAllConsumed();
            _type = null;
            _index = _eventCount + 1;
            return false;
        }
        var data = _data;
        _timestamp += Varint.UnZigZag(Varint.Read(data, ref _timestamps.Pos, _timestamps.End, "EventBatch.timestamp_deltas"));
        ulong ti = Varint.Read(data, ref _typeIndexes.Pos, _typeIndexes.End, "EventBatch.type_indexes");
        if (ti >= (ulong)_typeCount)
            throw new WireFormatException(_typeIndexes.Pos - 1, $"EventBatch.type_indexes: event {_index} has type {ti}, but the batch has {_typeCount} types");
        long cpu = Varint.UnZigZag(Varint.Read(data, ref _cpus.Pos, _cpus.End, "EventBatch.cpus"));
        if (cpu < -1 || cpu > WireSchema.MaxCpu)
            throw new WireFormatException(_cpus.Pos - 1, $"EventBatch.cpus: event {_index} has CPU {cpu}, outside -1..{WireSchema.MaxCpu}");
        ref int lastTid = ref _lastTid.For((int)cpu);
        long tid = lastTid + Varint.UnZigZag(Varint.Read(data, ref _tids.Pos, _tids.End, "EventBatch.tid_deltas"));
        if (tid is < int.MinValue or > int.MaxValue)
            throw new WireFormatException(_tids.Pos - 1, $"EventBatch.tid_deltas: event {_index} has tid {tid}, outside int32");
        lastTid = (int)tid;
        if (_guestIndexes.End != 0)
        {
            ulong guest = Varint.Read(data, ref _guestIndexes.Pos, _guestIndexes.End, "EventBatch.guest_indexes");
            if (guest > (ulong)_guestNames.Count)
                throw new WireFormatException(_guestIndexes.Pos - 1, $"EventBatch.guest_indexes: event {_index} is of guest {guest}, but the batch names {_guestNames.Count} guests");
            _guest = (int)guest;
        }

        var wt = _types[ti];
        var type = wt.Type;
        _buffer.Reset(type);
        if (type.Fields.Length > 0)
            ReadFields(wt, (int)ti, (int)tid);
        _cpu = (int)cpu;
        _tid = (int)tid;
        _type = type;
        _index++;
        return true;
    }

    private void ReadFields(WireEventType wt, int typeIndex, int tid)
    {
        var fields = wt.Type.Fields;
        var encodings = wt.Encodings;
        int row = _typeRows[typeIndex]++;
        int first = _typeFirstColumn[typeIndex];
        var data = _data;
        for (int k = 0; k < fields.Length; k++)
        {
            ref var c = ref _columns[first + k];
            if (!Varint.TryRead(data, ref c.Pos, c.End, out ulong raw))
                ThrowColumnCut(c.Pos, wt, k, row);
            long v = Varint.UnZigZag(raw);
            if (row == c.NextAbsent)
            {
                NextAbsent(ref c, row, wt, k);
                continue;
            }
            switch (encodings[k])
            {
                case ColumnEncoding.StringIndex:
                    if ((ulong)v >= (ulong)_stringCount)
                        throw new WireFormatException(c.Pos - 1, $"FieldColumn {ColumnName(wt, k)}: string index {v} but the batch has {_stringCount} strings");
                    _buffer.SetString(k, data.AsSpan(_stringStart[v], _stringLength[v]));
                    continue;
                case ColumnEncoding.MinusTid:
                    v += tid;
                    break;
                case ColumnEncoding.Delta:
                    v += c.Previous;
                    c.Previous = v;
                    break;
                default:
                    break;
            }
            _buffer.SetInt(k, v);
        }
    }

    private void NextAbsent(ref Column c, int row, WireEventType wt, int k)
    {
        if (c.AbsentPos >= c.AbsentEnd)
        {
            c.NextAbsent = long.MaxValue;
            return;
        }
        if (!Varint.TryRead(_data, ref c.AbsentPos, c.AbsentEnd, out ulong rawNext))
            ThrowColumnCut(c.AbsentPos, wt, k, row);
        long next = (long)rawNext;
        if (next <= row)
            throw new WireFormatException(c.AbsentPos - 1, $"FieldColumn {ColumnName(wt, k)}.absent_rows: rows not in increasing order ({next} after {row})");
        c.NextAbsent = next;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowColumnCut(int offset, WireEventType wt, int k, int row) =>
        throw new WireFormatException(offset, $"FieldColumn {ColumnName(wt, k)}: value of row {row} cut short or longer than 64 bits (the column holds fewer values than the type has events)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string ColumnName(WireEventType wt, int k) => wt.Type.Name + "." + wt.Type.Fields[k].Name;

    /// <summary>At the end, every column must be used up exactly: leftovers mean the counts disagree.</summary>
    private void CheckAllConsumed()
    {
        Leftover(_timestamps, "timestamp_deltas");
        Leftover(_typeIndexes, "type_indexes");
        Leftover(_cpus, "cpus");
        Leftover(_tids, "tid_deltas");
        Leftover(_guestIndexes, "guest_indexes");
        for (int i = 0; i < _typeCount; i++)
        {
            for (int k = 0; k < _types[i].Type.Fields.Length; k++)
            {
                var c = _columns[_typeFirstColumn[i] + k];
                if (c.Pos < c.End)
                    throw new WireFormatException(c.Pos, $"EventBatch: column {ColumnName(_types[i], k)} has {c.End - c.Pos} bytes left after the type's {_typeRows[i]} events");
                if (c.NextAbsent != long.MaxValue || c.AbsentPos < c.AbsentEnd)
                    throw new WireFormatException(c.AbsentPos, $"EventBatch: column {ColumnName(_types[i], k)} lists absent rows beyond its {_typeRows[i]} events");
            }
        }
    }

    private void Leftover(in Column c, string name)
    {
        if (c.Pos < c.End)
            throw new WireFormatException(c.Pos, $"EventBatch.{name}: {c.End - c.Pos} bytes left after the batch's {_eventCount} events");
    }
}
