using System.Globalization;
using System.Text;

namespace Vmtrace.Decoding;

/// <summary>
/// The one-line text form of an event used by <c>vmtrace dump</c>:
/// <c>SECONDS.NANOSECONDS [CPU] TID NAME: field=value, …</c>. Strings are quoted, hex fields
/// print as 0x…, enums as LABEL(value). In strings a quote or backslash gets a backslash before it and
/// control characters print as \n, \r, \t or \xNN, so an event is always one line. <see cref="Format"/> makes a
/// string; <see cref="Append"/> writes into a builder that can be reused from event to event.
/// </summary>
public static class EventFormatter
{
    public static string Format(in TraceEvent e)
    {
        var sb = new StringBuilder(128);
        Append(sb, e);
        return sb.ToString();
    }

    /// <summary>Appends the line of <see cref="Format"/> (without a line end); allocates nothing once the builder has grown.</summary>
    public static void Append(StringBuilder sb, in TraceEvent e)
    {
        AppendTimestamp(sb, e.Timestamp);
        sb.Append(CultureInfo.InvariantCulture, $" [{e.Cpu}] {e.Tid} ").Append(e.Type.Name).Append(':');
        var fields = e.Type.Fields;
        bool first = true;
        for (int i = 0; i < fields.Length; i++)
        {
            if (!e.IsPresent(i))
                continue;
            sb.Append(first ? " " : ", ");
            first = false;
            sb.Append(fields[i].Name).Append('=');
            AppendValue(sb, e, i);
        }
    }

    public static void AppendTimestamp(StringBuilder sb, long ns)
    {
        long sec = Math.DivRem(ns, 1_000_000_000L, out long frac);
        if (frac < 0)
        {
            sec--;
            frac += 1_000_000_000L;
        }
        sb.Append(CultureInfo.InvariantCulture, $"{sec}.{frac:D9}");
    }

    /// <summary>Appends the text form of one field's value.</summary>
    public static void AppendValue(StringBuilder sb, in TraceEvent e, int slot)
    {
        var f = e.Type.Fields[slot];
        switch (f.Kind)
        {
            case FieldKind.String:
                sb.Append('"');
                AppendEscaped(sb, e.GetBytes(slot));
                sb.Append('"');
                break;
            case FieldKind.Float:
                sb.Append(CultureInfo.InvariantCulture, $"{e.GetDouble(slot):R}");
                break;
            case FieldKind.IntArray:
                sb.Append('[');
                var elems = e.GetElements(slot);
                for (int j = 0; j < elems.Length; j++)
                {
                    if (j > 0) sb.Append(", ");
                    AppendInteger(sb, elems[j], f.ElementKind, f.DisplayBase);
                }
                sb.Append(']');
                break;
            default:
                long v = e.GetInt64(slot);
                string? label = LabelOf(f, v);
                if (label is not null)
                    sb.Append(label).Append('(');
                AppendInteger(sb, v, f.Kind, f.DisplayBase);
                if (label is not null)
                    sb.Append(')');
                break;
        }
    }

    private static string? LabelOf(FieldDescriptor f, long v)
    {
        if (f.EnumMappings is null)
            return null;
        foreach (var m in f.EnumMappings)
        {
            if (f.Kind == FieldKind.Unsigned ? (ulong)v >= (ulong)m.Low && (ulong)v <= (ulong)m.High : v >= m.Low && v <= m.High)
                return m.Label;
        }
        return null;
    }

    private static void AppendInteger(StringBuilder sb, long v, FieldKind kind, int displayBase)
    {
        if (displayBase == 16)
            sb.Append(CultureInfo.InvariantCulture, $"0x{(ulong)v:x}");
        else if (kind == FieldKind.Unsigned)
            sb.Append(CultureInfo.InvariantCulture, $"{(ulong)v}");
        else
            sb.Append(CultureInfo.InvariantCulture, $"{v}");
    }

    /// <summary>
    /// A UTF-8 string's text with control characters escaped, so that every event stays on one line (trace_marker
    /// text ends in '\n'). Short strings are decoded on the stack.
    /// </summary>
    private static void AppendEscaped(StringBuilder sb, ReadOnlySpan<byte> utf8)
    {
        const int StackChars = 256;
        char[]? rented = null;
        int maxChars = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        var buffer = maxChars <= StackChars ? stackalloc char[StackChars] : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(maxChars));
        int n = Encoding.UTF8.GetChars(utf8, buffer);
        foreach (char c in buffer[..n])
        {
            switch (c)
            {
                case '"' or '\\':
                    sb.Append('\\').Append(c);
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case < ' ' or '\u007f':
                    sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        if (rented is not null)
            System.Buffers.ArrayPool<char>.Shared.Return(rented);
    }
}
