namespace Vmtrace.Decoding.Ctf;

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
