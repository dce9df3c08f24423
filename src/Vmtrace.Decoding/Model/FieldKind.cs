namespace Vmtrace.Decoding;

/// <summary>How a field's value is stored in an event's value slot.</summary>
public enum FieldKind : byte
{
    /// <summary>Signed integer (also enums with a signed container), value in the slot.</summary>
    Signed,
    /// <summary>Unsigned integer (also enums with an unsigned container), value in the slot as bits.</summary>
    Unsigned,
    /// <summary>IEEE double (floats are widened); the slot holds the bits.</summary>
    Float,
    /// <summary>Text (UTF-8 bytes, no terminator): the slot packs offset and length into the event's byte data.</summary>
    String,
    /// <summary>Array or sequence of integers: the slot packs offset and count into the event's element data.</summary>
    IntArray,
}
