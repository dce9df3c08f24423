using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>
/// The text of <c>trace-cmd report -t -R</c> (raw fields, ns timestamps): a <c>cpus=N</c> line, then one event a
/// line, <c>comm-tid [cpu] seconds.ns: event: name=value …</c> (x86-tsc traces without TSC2NSEC print the
/// tick count with no dot). Parsed here to check the reader against trace-cmd itself.
/// </summary>
internal static partial class ReportRawText
{
    public sealed record Line(string Comm, int Tid, int Cpu, long Timestamp, string Event, string Fields, string Text);

    [GeneratedRegex(@"^\s*(?<comm>.*)-(?<tid>-?\d+)\s+\[(?<cpu>\d+)\]\s*(?<ts>\d+(?:\.\d+)?):\s+(?<event>[^:\s]+):\s*(?<fields>.*)$")]
    private static partial Regex LinePattern();

    public static IEnumerable<string> ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using Stream text = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(text);
        while (reader.ReadLine() is { } line)
            yield return line;
    }

    public static IEnumerable<Line> Parse(IEnumerable<string> lines)
    {
        foreach (var text in lines)
        {
            var m = LinePattern().Match(text);
            if (!m.Success)
                continue;
            yield return new Line(m.Groups["comm"].Value.Trim(), int.Parse(m.Groups["tid"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture), ParseTimestamp(m.Groups["ts"].Value),
                m.Groups["event"].Value, m.Groups["fields"].Value, text);
        }
    }

    /// <summary>"22149.949585938" → ns; "303280081900681" (raw ticks) → as is.</summary>
    public static long ParseTimestamp(string text)
    {
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
            return long.Parse(text, CultureInfo.InvariantCulture);
        string fraction = text[(dot + 1)..].PadRight(9, '0')[..9];
        return long.Parse(text[..dot], CultureInfo.InvariantCulture) * 1_000_000_000L + long.Parse(fraction, CultureInfo.InvariantCulture);
    }

    public static Dictionary<string, long> CountByEvent(IEnumerable<Line> lines)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var l in lines)
            counts[l.Event] = counts.GetValueOrDefault(l.Event) + 1;
        return counts;
    }

    /// <summary>
    /// Splits "a=1 b=x y c=0x2" by the names the event type declares, in order (values may hold spaces).
    /// Returns null when the names are not all there in that order.
    /// </summary>
    public static string[]? SplitFields(string fields, IReadOnlyList<string> names)
    {
        var values = new string[names.Count];
        int pos = 0;
        for (int i = 0; i < names.Count; i++)
        {
            string key = names[i] + "=";
            if (string.CompareOrdinal(fields, pos, key, 0, key.Length) != 0)
                return null;
            int start = pos + key.Length;
            int end = fields.Length;
            if (i + 1 < names.Count)
            {
                end = fields.IndexOf(" " + names[i + 1] + "=", start, StringComparison.Ordinal);
                if (end < 0)
                    return null;
            }
            values[i] = fields[start..end].TrimEnd('\r');
            pos = end + 1;
        }
        return values;
    }

    /// <summary>
    /// True when trace-cmd's text for a field is the decoded value. trace-cmd prints integers as the
    /// event's print format says (decimal, 0x-hex, bare hex, zero-padded), so an integer matches when the
    /// text read as decimal or as hex equals the value, or the value cut to 8/16/32 bits.
    /// </summary>
    public static bool ValueMatches(in TraceEvent e, int slot, string text, out string decoded)
    {
        var field = e.Type.Fields[slot];
        switch (field.Kind)
        {
            case FieldKind.String:
                decoded = e.GetString(slot);
                return decoded == text;
            case FieldKind.IntArray:
                var elements = e.GetElements(slot);
                decoded = "[" + string.Join(", ", elements.ToArray()) + "]";
                if (!text.StartsWith("ARRAY[", StringComparison.Ordinal) || !text.EndsWith(']'))
                    return false;
                var bytes = text[6..^1].Split(", ", StringSplitOptions.RemoveEmptyEntries)
                    .Select(b => byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
                if (elements.Length == 0)
                    return bytes.Length == 0;
                int size = bytes.Length / elements.Length;
                if (size * elements.Length != bytes.Length || size is not (1 or 2 or 4 or 8))
                    return false;
                for (int i = 0; i < elements.Length; i++)
                {
                    ulong fromText = 0;
                    for (int b = size - 1; b >= 0; b--)
                        fromText = (fromText << 8) | bytes[i * size + b];
                    ulong mask = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
                    if (fromText != ((ulong)elements[i] & mask))
                        return false;
                }
                return true;
            default:
                ulong value = (ulong)e.GetInt64(slot);
                decoded = field.Kind == FieldKind.Signed ? e.GetInt64(slot).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
                foreach (ulong candidate in Interpretations(text))
                {
                    if (candidate == value || candidate == (value & 0xFFFF_FFFF) || candidate == (value & 0xFFFF) || candidate == (value & 0xFF))
                        return true;
                }
                return false;
        }
    }

    private static IEnumerable<ulong> Interpretations(string text)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hex))
                yield return hex;
            yield break;
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long signed))
            yield return (ulong)signed;
        else if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong unsigned))
            yield return unsigned;
        if (ulong.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong bareHex))
            yield return bareHex;
    }
}
