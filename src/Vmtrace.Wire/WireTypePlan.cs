using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>
/// The writer's plan for one source <see cref="EventType"/>, made once per type: which slots are sent,
/// how each is encoded, the pre-encoded <c>EventTypeDesc</c>, and the reusable column buffers.
/// </summary>
internal sealed class WireTypePlan
{
    public WireTypePlan(EventType type, bool drop)
    {
        Source = type;
        Dropped = drop;
        Slots = drop ? [] : WireEventSelection.SelectSlots(type, out _);
        int n = Slots.Length;
        Kinds = new FieldKind[n];
        Encodings = new ColumnEncoding[n];
        Optional = new bool[n];
        Values = new ProtoBuffer[n];
        AbsentRows = new ProtoBuffer[n];
        Previous = new long[n];
        for (int k = 0; k < n; k++)
        {
            var f = type.Fields[Slots[k]];
            Kinds[k] = f.Kind;
            Encodings[k] = WireEventSelection.EncodingOf(type, Slots[k]);
            Optional[k] = f.Optional;
            Values[k] = new ProtoBuffer(64);
            AbsentRows[k] = new ProtoBuffer(0);
        }
        Descriptor = EncodeDescriptor(type);
    }

    public EventType Source { get; }
    /// <summary>The selection drops events of this type altogether.</summary>
    public bool Dropped { get; }
    public int[] Slots { get; }
    public FieldKind[] Kinds { get; }
    public ColumnEncoding[] Encodings { get; }
    public bool[] Optional { get; }
    public byte[] Descriptor { get; }
    public ProtoBuffer[] Values { get; }
    public ProtoBuffer[] AbsentRows { get; }
    public long[] Previous { get; }

    /// <summary>Index in the current batch's type table, valid when <see cref="BatchGeneration"/> is the batch's.</summary>
    public int BatchIndex { get; set; }
    public long BatchGeneration { get; set; } = -1;
    /// <summary>Events of this type in the current batch.</summary>
    public int Rows { get; set; }

    /// <summary>Starts a new batch for this type.</summary>
    public void BeginBatch(int index, long generation)
    {
        BatchIndex = index;
        BatchGeneration = generation;
        Rows = 0;
        for (int k = 0; k < Slots.Length; k++)
        {
            Values[k].Clear();
            AbsentRows[k].Clear();
            Previous[k] = 0;
        }
    }

    private byte[] EncodeDescriptor(EventType type)
    {
        var b = new ProtoBuffer();
        b.WriteStringField(WireSchema.TypeName, type.Name);
        b.WriteStringField(WireSchema.TypeSystem, type.System);
        var field = new ProtoBuffer();
        for (int k = 0; k < Slots.Length; k++)
        {
            var f = type.Fields[Slots[k]];
            field.Clear();
            field.WriteStringField(WireSchema.FieldName, f.Name);
            field.WriteVarintField(WireSchema.FieldKindNumber, (ulong)f.Kind);
            field.WriteVarintField(WireSchema.FieldDisplayBase, (ulong)f.DisplayBase);
            field.WriteVarintField(WireSchema.FieldElementKind, (ulong)f.ElementKind);
            field.WriteVarintField(WireSchema.FieldOptional, f.Optional ? 1UL : 0UL);
            field.WriteVarintField(WireSchema.FieldEncoding, (ulong)Encodings[k]);
            b.WriteBytesField(WireSchema.TypeFields, field.Written, omitEmpty: false);
        }
        return b.Written.ToArray();
    }
}
