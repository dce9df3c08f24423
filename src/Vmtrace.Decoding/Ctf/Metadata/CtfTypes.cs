namespace Vmtrace.Decoding.Ctf;

/// <summary>Byte order of a CTF integer or float; <see cref="Native"/> means the trace's byte_order.</summary>
public enum CtfByteOrder : byte
{
    Native,
    Little,
    Big,
}

/// <summary>A CTF 1.8 type declared in TSDL metadata. Alignments are in bits.</summary>
public abstract class CtfType
{
    /// <summary>Alignment in bits of the start of a value of this type.</summary>
    public abstract int Alignment { get; }
}

/// <summary>integer { size; align; signed; byte_order; base; encoding; map }.</summary>
public sealed class CtfInteger(int size, int alignment, bool signed, CtfByteOrder byteOrder, int displayBase, bool isText,
    string? mappedClock) : CtfType
{
    public int Size { get; } = size;
    public override int Alignment { get; } = alignment;
    public bool Signed { get; } = signed;
    public CtfByteOrder ByteOrder { get; } = byteOrder;
    public int DisplayBase { get; } = displayBase;
    /// <summary>encoding = UTF8 or ASCII: arrays and sequences of it are text.</summary>
    public bool IsText { get; } = isText;
    /// <summary>Name of the clock this integer maps to (<c>map = clock.NAME.value</c>), else null.</summary>
    public string? MappedClock { get; } = mappedClock;
}

/// <summary>enum : container { LABEL = low ... high, … }.</summary>
public sealed class CtfEnum(CtfInteger container, IReadOnlyList<EnumMapping> mappings) : CtfType
{
    public CtfInteger Container { get; } = container;
    public IReadOnlyList<EnumMapping> Mappings { get; } = mappings;
    public override int Alignment => Container.Alignment;
}

/// <summary>floating_point { exp_dig; mant_dig; byte_order; align }: 32 or 64 bits.</summary>
public sealed class CtfFloat(int exponentDigits, int mantissaDigits, int alignment, CtfByteOrder byteOrder) : CtfType
{
    public int ExponentDigits { get; } = exponentDigits;
    public int MantissaDigits { get; } = mantissaDigits;
    public int Size => ExponentDigits + MantissaDigits;
    public override int Alignment { get; } = alignment;
    public CtfByteOrder ByteOrder { get; } = byteOrder;
}

/// <summary>Null-terminated string.</summary>
public sealed class CtfString : CtfType
{
    public static readonly CtfString Instance = new();
    public override int Alignment => 8;
}

/// <summary>A named member of a structure or an option of a variant.</summary>
public sealed record CtfField(string Name, CtfType Type);

/// <summary>struct { fields } align(N).</summary>
public sealed class CtfStruct(IReadOnlyList<CtfField> fields, int minimumAlignment) : CtfType
{
    public IReadOnlyList<CtfField> Fields { get; } = fields;
    public int MinimumAlignment { get; } = minimumAlignment;
    public override int Alignment => Math.Max(MinimumAlignment, Fields.Count == 0 ? 1 : Fields.Max(f => f.Type.Alignment));

    public CtfField? Find(string name) => Fields.FirstOrDefault(f => f.Name == name);
}

/// <summary>variant &lt;tag&gt; { options }: the tag (an enum field) selects the option whose name is its label.</summary>
public sealed class CtfVariant(string? tag, IReadOnlyList<CtfField> options) : CtfType
{
    public string? Tag { get; } = tag;
    public IReadOnlyList<CtfField> Options { get; } = options;
    // A variant has no alignment of its own: the selected option aligns itself.
    public override int Alignment => 1;

    public CtfVariant WithTag(string tag) => new(tag, Options);
}

/// <summary>Fixed-length array: element[length].</summary>
public sealed class CtfArray(CtfType element, long length) : CtfType
{
    public CtfType Element { get; } = element;
    public long Length { get; } = length;
    public override int Alignment => Element.Alignment;
}

/// <summary>Sequence: element[lengthField], the length read from an earlier integer field.</summary>
public sealed class CtfSequence(CtfType element, string lengthPath) : CtfType
{
    public CtfType Element { get; } = element;
    public string LengthPath { get; } = lengthPath;
    public override int Alignment => Element.Alignment;
}
