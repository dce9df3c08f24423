using System.Buffers.Text;
using System.Text;

namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// One <see cref="EventType"/> per distinct (event name, field names and kinds) of a qemu log. A line's
/// signature is built in a reusable buffer and looked up by hash, so a line of an already seen shape
/// allocates nothing. The same event can have several types when a value changes kind (a <c>%s</c>
/// that is sometimes a number); consumers key on names and roles, not on types.
/// </summary>
internal sealed class QemuEventTypeCache
{
    /// <summary>ftrace-like subsystem name shown for every qemu event.</summary>
    public const string System = "qemu";

    private const byte FieldSeparator = 0;

    private readonly Dictionary<ulong, Entry> _byHash = [];
    private byte[] _signature = new byte[512];

    public int Count { get; private set; }

    public EventType GetOrAdd(ReadOnlySpan<byte> line, QemuLogLineParser parsed)
    {
        int length = WriteSignature(line, parsed);
        var signature = _signature.AsSpan(0, length);
        ulong hash = Fnv1a(signature);
        _byHash.TryGetValue(hash, out var first);
        for (var e = first; e is not null; e = e.Next)
        {
            if (signature.SequenceEqual(e.Signature))
                return e.Type;
        }
        var type = CreateType(line, parsed);
        _byHash[hash] = new Entry(signature.ToArray(), type, first);
        Count++;
        return type;
    }

    private int WriteSignature(ReadOnlySpan<byte> line, QemuLogLineParser parsed)
    {
        // Worst case per field: separator, kind, base, key, "arg" + 3 digits, "_label".
        int needed = parsed.NameLength + parsed.FieldCount * 3;
        foreach (ref readonly var f in parsed.Fields)
            needed += f.KeyLength + 16;
        if (needed > _signature.Length)
            _signature = new byte[Math.Max(needed, _signature.Length * 2)];

        var dest = _signature.AsSpan();
        line.Slice(parsed.NameStart, parsed.NameLength).CopyTo(dest);
        int n = parsed.NameLength;
        foreach (ref readonly var f in parsed.Fields)
        {
            dest[n++] = FieldSeparator;
            dest[n++] = (byte)f.Kind;
            dest[n++] = f.DisplayBase;
            n += WriteFieldName(line, f, dest[n..]);
        }
        return n;
    }

    private static int WriteFieldName(ReadOnlySpan<byte> line, in ParsedField f, Span<byte> dest)
    {
        int n;
        if (f.Position < 0)
        {
            line.Slice(f.KeyStart, f.KeyLength).CopyTo(dest);
            n = f.KeyLength;
        }
        else
        {
            "arg"u8.CopyTo(dest);
            Utf8Formatter.TryFormat(f.Position, dest[3..], out int digits);
            n = 3 + digits;
        }
        if (f.IsLabel)
        {
            "_label"u8.CopyTo(dest[n..]);
            n += 6;
        }
        return n;
    }

    private static EventType CreateType(ReadOnlySpan<byte> line, QemuLogLineParser parsed)
    {
        string name = Encoding.UTF8.GetString(line.Slice(parsed.NameStart, parsed.NameLength));
        var fields = new FieldDescriptor[parsed.FieldCount];
        Span<byte> fieldName = stackalloc byte[LineReader.MaxLineLength / 64];
        for (int i = 0; i < fields.Length; i++)
        {
            ref readonly var f = ref parsed.Fields[i];
            string fieldText = f.KeyLength + 16 <= fieldName.Length
                ? Encoding.UTF8.GetString(fieldName[..WriteFieldName(line, f, fieldName)])
                : LongFieldName(line, f);
            fields[i] = new FieldDescriptor(fieldText, f.Kind, f.DisplayBase);
        }
        return new EventType(name, fields, System);
    }

    private static string LongFieldName(ReadOnlySpan<byte> line, in ParsedField f)
    {
        var buffer = new byte[f.KeyLength + 16];
        return Encoding.UTF8.GetString(buffer, 0, WriteFieldName(line, f, buffer));
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes)
            h = (h ^ b) * 1099511628211UL;
        return h;
    }

    private sealed class Entry(byte[] signature, EventType type, Entry? next)
    {
        public byte[] Signature { get; } = signature;
        public EventType Type { get; } = type;
        public Entry? Next { get; } = next;
    }
}
