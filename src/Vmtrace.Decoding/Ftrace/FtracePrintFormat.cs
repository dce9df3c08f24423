using System.Text;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Reads an event's <c>print fmt:</c> line only to learn which fields the kernel prints in hex
/// (<c>%x</c>, <c>%lx</c>, <c>%llx</c>, <c>%p</c> applied directly to <c>REC-&gt;field</c>), so dumps show
/// addresses as trace-cmd does. Anything it cannot follow is simply not marked.
/// </summary>
public static class FtracePrintFormat
{
    public static HashSet<string> HexFields(string printFormat)
    {
        var hex = new HashSet<string>(StringComparer.Ordinal);
        if (!TrySplit(printFormat, out var format, out var args))
            return hex;
        var conversions = Conversions(format);
        for (int i = 0; i < conversions.Count && i < args.Count; i++)
        {
            if (conversions[i] is not ('x' or 'X' or 'p'))
                continue;
            string arg = StripCasts(args[i].Trim());
            if (arg.StartsWith("REC->", StringComparison.Ordinal) && IsIdentifier(arg.AsSpan(5)))
                hex.Add(arg[5..]);
        }
        return hex;
    }

    /// <summary>Splits <c>"fmt" "more", arg1, arg2</c> into the joined format text and the top-level arguments.</summary>
    private static bool TrySplit(string line, out string format, out List<string> args)
    {
        var fmt = new StringBuilder();
        args = [];
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            if (i >= line.Length || line[i] != '"')
                break;
            i++;
            while (i < line.Length && line[i] != '"')
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    fmt.Append(line[i]);
                    i++;
                }
                fmt.Append(line[i]);
                i++;
            }
            i++; // closing quote
        }
        format = fmt.ToString();
        if (i >= line.Length || line[i] != ',')
            return format.Length > 0;
        int depth = 0;
        var current = new StringBuilder();
        bool inString = false;
        for (i++; i < line.Length; i++)
        {
            char c = line[i];
            if (inString)
            {
                if (c == '\\' && i + 1 < line.Length) { current.Append(c).Append(line[++i]); continue; }
                if (c == '"') inString = false;
                current.Append(c);
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '(' or '[' or '{': depth++; break;
                case ')' or ']' or '}': depth--; break;
                case ',' when depth == 0:
                    args.Add(current.ToString());
                    current.Clear();
                    continue;
            }
            current.Append(c);
        }
        if (current.Length > 0)
            args.Add(current.ToString());
        return true;
    }

    /// <summary>The conversion letter of each % directive, in order ('*' widths count as arguments too).</summary>
    private static List<char> Conversions(string format)
    {
        var list = new List<char>();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
                continue;
            i++;
            if (i < format.Length && format[i] == '%')
                continue;
            while (i < format.Length && "-+ #0123456789.*hlLqjzt".Contains(format[i], StringComparison.Ordinal))
            {
                if (format[i] == '*')
                    list.Add('*');
                i++;
            }
            if (i < format.Length)
                list.Add(format[i]);
        }
        return list;
    }

    private static string StripCasts(string arg)
    {
        while (arg.StartsWith('('))
        {
            int close = arg.IndexOf(')', StringComparison.Ordinal);
            if (close < 0)
                break;
            string inner = arg[1..close];
            if (inner.StartsWith("REC->", StringComparison.Ordinal))
                return inner; // "(REC->x)"
            arg = arg[(close + 1)..].Trim();
        }
        return arg;
    }

    private static bool IsIdentifier(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
            return false;
        foreach (char c in s)
        {
            if (!char.IsLetterOrDigit(c) && c != '_')
                return false;
        }
        return true;
    }
}
