using System.Runtime.InteropServices;

namespace Vmtrace.Decoding.Ctf;

internal enum DecodeOpCode : byte
{
    /// <summary>Align the read position (structures).</summary>
    Align,
    /// <summary>Integer or enum: to its register, and to its slot when it has one.</summary>
    Int,
    Float32,
    Float64,
    /// <summary>Null-terminated string.</summary>
    String,
    /// <summary>Array of 8-bit text characters of fixed <see cref="DecodeOp.Length"/>: a string up to the first NUL.</summary>
    TextArray,
    /// <summary>Sequence of 8-bit text characters, length in register <see cref="DecodeOp.LengthRegister"/>.</summary>
    TextSequence,
    /// <summary>Array of integers of fixed length.</summary>
    IntArray,
    /// <summary>Sequence of integers, length in a register.</summary>
    IntSequence,
    /// <summary>Start of a repeated compound element (array/sequence of structs…): runs the ops up to <see cref="DecodeOp.Target"/> count times.</summary>
    RepeatBegin,
    /// <summary>End of a repeated element: loops back to the ops after its RepeatBegin at <see cref="DecodeOp.Target"/>.</summary>
    RepeatEnd,
    /// <summary>Variant: the tag in <see cref="DecodeOp.Register"/> picks a jump target from variant table <see cref="DecodeOp.Table"/>.</summary>
    Variant,
    /// <summary>Go to <see cref="DecodeOp.Target"/> (end of a variant option).</summary>
    Jump,
}

/// <summary>What the stream reader does with a header integer besides storing it.</summary>
internal enum FieldRoleInHeader : byte
{
    None,
    /// <summary>An event-header integer mapped to the clock: updates the low bits of the running clock.</summary>
    ClockValue,
    /// <summary>An event-header integer named id: the event class id (the last one decoded wins: extended headers).</summary>
    EventId,
}

/// <summary>
/// One instruction of a flat decode program, built once per event class (see <see cref="DecodeProgramCompiler"/>).
/// Sizes and alignments are in bits.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal struct DecodeOp
{
    public DecodeOpCode Code;
    public FieldRoleInHeader Role;
    public bool Signed;
    public bool BigEndian;
    public byte Size;
    public int Align;
    /// <summary>Value slot in the event, or -1 to decode without keeping.</summary>
    public int Slot;
    /// <summary>Register that keeps an integer (for sequence lengths, variant tags, header fields), or -1.</summary>
    public int Register;
    public int LengthRegister;
    public long Length;
    public int Target;
    public int Table;

    public override readonly string ToString() => $"{Code} size={Size} align={Align} slot={Slot} reg={Register} len={Length}/{LengthRegister} target={Target}";
}
