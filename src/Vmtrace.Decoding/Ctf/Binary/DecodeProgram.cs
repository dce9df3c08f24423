namespace Vmtrace.Decoding.Ctf;

/// <summary>One option of a variant: tags Low..High jump to Target.</summary>
internal readonly record struct VariantCase(long Low, long High, int Target);

/// <summary>A compiled program: its ops, variant tables and the value slots it fills.</summary>
internal sealed class DecodeProgram(DecodeOp[] ops, VariantCase[][] variantTables, bool[] unsignedTags, FieldDescriptor[] fields, int registerCount)
{
    /// <summary>Registers the program writes: the machine's register file must be at least this long.</summary>
    public int RegisterCount { get; } = registerCount;
    public DecodeOp[] Ops { get; } = ops;
    public VariantCase[][] VariantTables { get; } = variantTables;
    public bool[] UnsignedTags { get; } = unsignedTags;
    public FieldDescriptor[] Fields { get; } = fields;
}
