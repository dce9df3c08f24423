namespace Vmtrace.Decoding;

/// <summary>
/// One event type of one trace: its name, flattened fields and resolved roles. Built once per type by
/// a reader; every event of that type shares it. <see cref="Id"/> is unique in the process, so
/// consumers may index per-type caches by it even when several traces are merged.
/// </summary>
public sealed class EventType
{
    private static int s_nextId;
    private readonly int[] _roleSlots;
    private readonly Dictionary<string, int> _slotByName;

    public EventType(string name, IReadOnlyList<FieldDescriptor> fields, string? system = null)
    {
        Id = Interlocked.Increment(ref s_nextId) - 1;
        Name = name;
        System = system;
        Fields = fields.ToArray();
        Known = EventCatalog.Classify(system is null ? name : system + ":" + name);
        _roleSlots = EventCatalog.ResolveRoles(Known, Fields);
        _slotByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Fields.Length; i++)
            _slotByName.TryAdd(Fields[i].Name, i);
        HasOptionalFields = Fields.Any(f => f.Optional);
    }

    /// <summary>Process-wide unique, dense, small: usable as an array index.</summary>
    public int Id { get; }
    /// <summary>The event name as the tracer wrote it (perf CTF: "sched:sched_switch").</summary>
    public string Name { get; }
    /// <summary>The tracer's subsystem when it is separate from the name (ftrace "sched"), else null.</summary>
    public string? System { get; }
    public KnownEvent Known { get; }
    public FieldDescriptor[] Fields { get; }
    public bool HasOptionalFields { get; }

    /// <summary>Slot of the field with that role, or -1.</summary>
    public int Slot(FieldRole role) => _roleSlots[(int)role];

    /// <summary>Slot of the field with that exact (underscore-free) name, or -1.</summary>
    public int IndexOf(string fieldName) => _slotByName.TryGetValue(fieldName, out var i) ? i : -1;

    public override string ToString() => Name;

    /// <summary>The synthetic type readers use to report lost events (field "count").</summary>
    public static EventType CreateLostEvents() =>
        new(EventCatalog.LostEventsName, [new FieldDescriptor("count", FieldKind.Unsigned)]);
}
