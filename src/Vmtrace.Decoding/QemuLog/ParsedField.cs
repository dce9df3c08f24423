namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// One argument of the line being parsed, as positions into that line. Its field name is the key the
/// line wrote ("req 0x…", "reason=6"), or "argN" when the value came without a key, with "_label" appended
/// for the text of a parenthesised annotation ("new_state 9 (running)" gives new_state=9, new_state_label="running").
/// </summary>
internal struct ParsedField
{
    /// <summary>Where the key is in the line; unused when <see cref="Position"/> names the field.</summary>
    public int KeyStart;
    public int KeyLength;
    /// <summary>-1 for a keyed field, else N of the "argN" name given to a value without a key.</summary>
    public int Position;
    /// <summary>True for the "_label" text of the annotation that followed the previous value.</summary>
    public bool IsLabel;
    public FieldKind Kind;
    public byte DisplayBase;
    /// <summary>Integer value (Signed/Unsigned kinds).</summary>
    public long Value;
    /// <summary>Where the text is in the line (String kind).</summary>
    public int TextStart;
    public int TextLength;
}
