namespace Vmtrace.Decoding;

/// <summary>One label of an enumeration: values Low..High (inclusive) map to Label.</summary>
public sealed record EnumMapping(string Label, long Low, long High);

/// <summary>
/// Describes one value slot of an event type. Built once per event type, never per event.
/// Nested structures are flattened into dotted names ("network_header.ipv4.saddr").
/// </summary>
public sealed class FieldDescriptor
{
    public FieldDescriptor(string name, FieldKind kind, int displayBase = 10, FieldKind elementKind = FieldKind.Signed,
        IReadOnlyList<EnumMapping>? enumMappings = null, bool optional = false)
    {
        Name = name;
        Kind = kind;
        DisplayBase = displayBase;
        ElementKind = elementKind;
        EnumMappings = enumMappings;
        Optional = optional;
    }

    /// <summary>Field name as the tracer wrote it, without CTF's leading underscore.</summary>
    public string Name { get; }
    public FieldKind Kind { get; }
    /// <summary>Preferred display base (10, 16, 8, 2): LTTng marks addresses as hex.</summary>
    public int DisplayBase { get; }
    /// <summary>For <see cref="FieldKind.IntArray"/>: Signed or Unsigned elements.</summary>
    public FieldKind ElementKind { get; }
    /// <summary>Labels when the field is an enumeration, else null.</summary>
    public IReadOnlyList<EnumMapping>? EnumMappings { get; }
    /// <summary>True for fields inside a CTF variant: present only when their option is selected.</summary>
    public bool Optional { get; }

    public override string ToString() => $"{Kind} {Name}";
}
