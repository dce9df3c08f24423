namespace Vmtrace.Decoding.Ctf;

/// <summary>A TSDL <c>clock</c> block: cycles to nanoseconds since its origin.</summary>
public sealed class CtfClock
{
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    /// <summary>Cycles per second (1 GHz for LTTng and perf).</summary>
    public ulong Frequency { get; init; } = 1_000_000_000;
    public long OffsetSeconds { get; init; }
    /// <summary>Offset from the origin in cycles, added to every value.</summary>
    public long OffsetCycles { get; init; }
    /// <summary>True when the origin is the UNIX epoch (CTF says: offsets from the epoch unless absolute = false).</summary>
    public bool Absolute { get; init; }

    /// <summary>Nanoseconds since the origin of a clock value in cycles.</summary>
    public long ToNanoseconds(ulong cycles)
    {
        if (Frequency == 1_000_000_000)
            return OffsetSeconds * 1_000_000_000 + OffsetCycles + (long)cycles;
        Int128 total = (Int128)OffsetCycles + cycles;
        return OffsetSeconds * 1_000_000_000 + (long)(total * 1_000_000_000 / Frequency);
    }
}

/// <summary>A TSDL <c>stream</c> block: the layouts shared by all packets and events of one stream class.</summary>
public sealed class CtfStreamClass
{
    public long Id { get; init; }
    public CtfStruct? PacketContext { get; init; }
    public CtfStruct? EventHeader { get; init; }
    public CtfStruct? EventContext { get; init; }
}

/// <summary>A TSDL <c>event</c> block.</summary>
public sealed class CtfEventClass
{
    private IReadOnlyList<FieldDescriptor>? _fields;

    public long Id { get; init; }
    public string Name { get; init; } = "";
    public long StreamId { get; init; }
    public CtfStruct? Context { get; init; }
    public CtfStruct? Payload { get; init; }
    /// <summary>Set by the parser so flattening can resolve native byte order.</summary>
    internal CtfByteOrder TraceByteOrder { get; init; } = CtfByteOrder.Little;

    /// <summary>The payload flattened to value slots (dotted names, no leading underscores).</summary>
    public IReadOnlyList<FieldDescriptor> Fields => _fields ??= DecodeProgramCompiler.Flatten(Payload, TraceByteOrder);

    public override string ToString() => $"{Name} (id {Id}, stream {StreamId})";
}
