using System.Diagnostics.CodeAnalysis;
using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>
/// Rebuilt event types by their exact <c>EventTypeDesc</c> bytes, so a long-running worker makes each
/// <see cref="EventType"/> once per distinct type, not once per batch (lookups by span allocate nothing).
/// Share one per worker (or per host); not thread-safe. Bounded: a stream of ever new types clears it.
/// </summary>
public sealed class WireTypeCache
{
    private const int MaxEntries = 65_536;
    private readonly Dictionary<byte[], WireEventType> _types = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], WireEventType>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;

    public WireTypeCache() => _bySpan = _types.GetAlternateLookup<ReadOnlySpan<byte>>();

    public int Count => _types.Count;

    internal WireEventType Get(byte[] data, int start, int end)
    {
        var key = data.AsSpan(start, end - start);
        if (_bySpan.TryGetValue(key, out var known))
            return known;
        var built = Build(data, start, end);
        if (_types.Count >= MaxEntries)
            _types.Clear();
        _types.Add(key.ToArray(), built);
        return built;
    }

    private static WireEventType Build(byte[] data, int start, int end)
    {
        string name = "";
        string? system = null;
        var fields = new List<FieldDescriptor>();
        var encodings = new List<ColumnEncoding>();
        var r = new ProtoReader(data, start, end, "EventTypeDesc");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.TypeName: name = r.ReadString(type, "name"); break;
                case WireSchema.TypeSystem: system = r.ReadString(type, "system"); break;
                case WireSchema.TypeFields:
                    if (fields.Count >= WireSchema.MaxFieldsPerType)
                        throw new WireFormatException(r.FieldStart, $"EventTypeDesc '{name}': more than {WireSchema.MaxFieldsPerType} fields");
                    var (s, e) = r.ReadLengthDelimited(type, "fields");
                    var (desc, encoding) = BuildField(data, s, e, name);
                    fields.Add(desc);
                    encodings.Add(encoding);
                    break;
                default: r.Skip(type); break;
            }
        }
        if (name.Length == 0)
            throw new WireFormatException(start, "EventTypeDesc: no name");
        return new WireEventType(new EventType(name, fields, string.IsNullOrEmpty(system) ? null : system), encodings.ToArray());
    }

    private static (FieldDescriptor, ColumnEncoding) BuildField(byte[] data, int start, int end, string typeName)
    {
        string name = "";
        ulong kind = 0, displayBase = 0, elementKind = 0, encoding = 0;
        bool optional = false;
        var r = new ProtoReader(data, start, end, "FieldDesc");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.FieldName: name = r.ReadString(type, "name"); break;
                case WireSchema.FieldKindNumber: kind = r.ReadVarint(type, "kind"); break;
                case WireSchema.FieldDisplayBase: displayBase = r.ReadVarint(type, "display_base"); break;
                case WireSchema.FieldElementKind: elementKind = r.ReadVarint(type, "element_kind"); break;
                case WireSchema.FieldOptional: optional = r.ReadVarint(type, "optional") != 0; break;
                case WireSchema.FieldEncoding: encoding = r.ReadVarint(type, "encoding"); break;
                default: r.Skip(type); break;
            }
        }
        string where = $"FieldDesc '{typeName}.{name}'";
        if (name.Length == 0)
            throw new WireFormatException(start, $"{where}: no name");
        if (kind > (ulong)FieldKind.String)
            throw new WireFormatException(start, $"{where}: kind {kind} cannot be sent (0 signed, 1 unsigned, 2 float, 3 string)");
        if (elementKind > (ulong)FieldKind.IntArray)
            throw new WireFormatException(start, $"{where}: unknown element kind {elementKind}");
        if (displayBase is not (0 or 2 or 8 or 10 or 16))
            throw new WireFormatException(start, $"{where}: display base {displayBase} is not 2, 8, 10 or 16");
        if (encoding > (ulong)ColumnEncoding.Delta)
            throw new WireFormatException(start, $"{where}: unknown column encoding {encoding}");
        bool isString = kind == (ulong)FieldKind.String;
        if (isString != (encoding == (ulong)ColumnEncoding.StringIndex))
            throw new WireFormatException(start, $"{where}: string fields and only they use the string-index encoding");
        var desc = new FieldDescriptor(name, (FieldKind)kind, displayBase == 0 ? 10 : (int)displayBase, (FieldKind)elementKind, null, optional);
        return (desc, (ColumnEncoding)encoding);
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode([DisallowNull] byte[] obj) => Hash(obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            var h = new HashCode();
            h.AddBytes(bytes);
            return h.ToHashCode();
        }
    }
}
