namespace Vmtrace.Decoding.Ftrace;

/// <summary>How a field of an ftrace event format is stored in the event record.</summary>
public enum FtraceFieldStorage : byte
{
    /// <summary>A scalar of 1, 2, 4 or 8 bytes at a fixed offset.</summary>
    Scalar,
    /// <summary>A fixed-size array at a fixed offset (<c>char comm[16]</c>, <c>unsigned long args[6]</c>).</summary>
    FixedArray,
    /// <summary><c>__data_loc</c>: a u32 at the field's offset holds the data offset (low 16 bits, from the record start) and length (high 16).</summary>
    DataLoc,
    /// <summary><c>__rel_loc</c>: like <see cref="DataLoc"/> but the offset counts from the end of the u32 itself.</summary>
    RelLoc,
    /// <summary>A trailing array of size 0 (<c>char buf[]</c>): the data runs to the end of the record.</summary>
    Trailing,
}

/// <summary>One <c>field:</c> line of an event format file, as written by the kernel.</summary>
public sealed record FtraceFormatField(
    string Name,
    string Type,
    int Offset,
    int Size,
    bool Signed,
    FtraceFieldStorage Storage,
    int ArrayLength)
{
    /// <summary>True for <c>common_type</c>, <c>common_pid</c>… which every event carries.</summary>
    public bool IsCommon => Name.StartsWith("common_", StringComparison.Ordinal);

    /// <summary>True when the element type is a pointer (printed in hex by trace-cmd).</summary>
    public bool IsPointer => Type.Contains('*', StringComparison.Ordinal);

    /// <summary>True for arrays of <c>char</c>: decoded as text up to the first NUL.</summary>
    public bool IsText => Storage != FtraceFieldStorage.Scalar && IsCharType(Type);

    private static bool IsCharType(string type)
    {
        string t = type.Replace("[]", "", StringComparison.Ordinal).Replace("const ", "", StringComparison.Ordinal).Trim();
        return t is "char" or "signed char" or "unsigned char";
    }
}

/// <summary>One event format file: <c>name:</c>, <c>ID:</c>, its fields and its print format.</summary>
public sealed record FtraceEventFormat(string System, string Name, int Id, IReadOnlyList<FtraceFormatField> Fields, string PrintFormat);
