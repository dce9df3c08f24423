using System.Globalization;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Parses the kernel's event format files (<c>events/&lt;system&gt;/&lt;event&gt;/format</c>) and
/// <c>header_page</c>: <c>field:unsigned short common_type; offset:0; size:2; signed:0;</c>.
/// Runs once per event type, when a trace is opened.
/// </summary>
public static class FtraceFormatParser
{
    /// <summary>Parses a whole format file. Returns null when it has no name or ID (not an event format).</summary>
    public static FtraceEventFormat? ParseEvent(string system, string text, int kernelLongSize)
    {
        string? name = null;
        int id = -1;
        string printFormat = "";
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.StartsWith("name:", StringComparison.Ordinal))
                name = line[5..].Trim();
            else if (line.StartsWith("ID:", StringComparison.Ordinal)
                && int.TryParse(line[3..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed))
                id = parsed;
            else if (line.StartsWith("print fmt:", StringComparison.Ordinal))
                printFormat = line[10..].Trim();
        }
        if (string.IsNullOrEmpty(name) || id < 0)
            return null;
        return new FtraceEventFormat(system, name, id, ParseFieldLines(text, kernelLongSize), printFormat);
    }

    /// <summary>Parses every <c>field:</c> line; lines that make no sense are left out.</summary>
    public static List<FtraceFormatField> ParseFieldLines(string text, int kernelLongSize = 8)
    {
        var fields = new List<FtraceFormatField>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (!line.StartsWith("field:", StringComparison.Ordinal) && !line.StartsWith("field special:", StringComparison.Ordinal))
                continue;
            var field = ParseFieldLine(line, kernelLongSize);
            if (field is not null)
                fields.Add(field);
        }
        return fields;
    }

    private static FtraceFormatField? ParseFieldLine(string line, int kernelLongSize)
    {
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        int semicolon = line.IndexOf(';', colon + 1);
        if (semicolon < 0)
            return null;
        string declaration = line[(colon + 1)..semicolon].Trim();
        int offset = -1, size = -1, signedFlag = -1;
        foreach (var part in line[(semicolon + 1)..].Split(';'))
        {
            var kv = part.Trim();
            int c = kv.IndexOf(':', StringComparison.Ordinal);
            if (c < 0)
                continue;
            var key = kv[..c].Trim();
            if (!int.TryParse(kv[(c + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                continue;
            switch (key)
            {
                case "offset": offset = value; break;
                case "size": size = value; break;
                case "signed": signedFlag = value; break;
            }
        }
        if (offset < 0 || size < 0 || declaration.Length == 0)
            return null;

        var storage = FtraceFieldStorage.Scalar;
        if (declaration.StartsWith("__data_loc ", StringComparison.Ordinal))
        {
            storage = FtraceFieldStorage.DataLoc;
            declaration = declaration[11..].Trim();
        }
        else if (declaration.StartsWith("__rel_loc ", StringComparison.Ordinal))
        {
            storage = FtraceFieldStorage.RelLoc;
            declaration = declaration[10..].Trim();
        }

        // A trailing [N] after the name makes a fixed array; "[]" after the type (data_loc) does not.
        string? arrayText = null;
        if (declaration.EndsWith(']'))
        {
            int open = declaration.LastIndexOf('[');
            if (open > 0)
            {
                arrayText = declaration[(open + 1)..^1].Trim();
                declaration = declaration[..open].TrimEnd();
            }
        }
        int nameStart = declaration.Length;
        while (nameStart > 0 && (char.IsLetterOrDigit(declaration[nameStart - 1]) || declaration[nameStart - 1] == '_'))
            nameStart--;
        string name = declaration[nameStart..];
        string type = declaration[..nameStart].Trim();
        if (name.Length == 0 || type.Length == 0)
            return null;

        bool isSigned = signedFlag >= 0 ? signedFlag != 0 : !type.Contains("unsigned", StringComparison.Ordinal) && !type.StartsWith('u');
        int arrayLength = 0;
        if (storage == FtraceFieldStorage.Scalar && arrayText is not null)
        {
            int elementSize = ElementSize(type, kernelLongSize);
            if (int.TryParse(arrayText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 && size > 0)
                arrayLength = n;
            else if (size > 0)
                arrayLength = Math.Max(1, size / elementSize);
            storage = size == 0 ? FtraceFieldStorage.Trailing : FtraceFieldStorage.FixedArray;
        }
        else if (storage == FtraceFieldStorage.Scalar && size is not (1 or 2 or 4 or 8))
        {
            // A struct or an odd-sized scalar: keep its bytes.
            storage = FtraceFieldStorage.FixedArray;
            type = "u8";
            arrayLength = size;
        }
        return new FtraceFormatField(name, type, offset, size, isSigned, storage, arrayLength);
    }

    /// <summary>Size of one element of a C type as the kernel declares it.</summary>
    public static int ElementSize(string type, int kernelLongSize)
    {
        string t = type.Replace("[]", "", StringComparison.Ordinal).Replace("const ", "", StringComparison.Ordinal)
            .Replace("volatile ", "", StringComparison.Ordinal).Trim();
        if (t.Contains('*', StringComparison.Ordinal))
            return kernelLongSize;
        return t switch
        {
            "char" or "signed char" or "unsigned char" or "u8" or "s8" or "__u8" or "__s8" or "bool" or "_Bool" or "int8_t" or "uint8_t" => 1,
            "short" or "unsigned short" or "u16" or "s16" or "__u16" or "__s16" or "__le16" or "__be16" or "short int"
                or "short unsigned int" or "int16_t" or "uint16_t" => 2,
            "long long" or "unsigned long long" or "u64" or "s64" or "__u64" or "__s64" or "__le64" or "__be64"
                or "long long int" or "long long unsigned int" or "int64_t" or "uint64_t" or "loff_t" or "sector_t" => 8,
            "long" or "unsigned long" or "long int" or "long unsigned int" or "size_t" or "ssize_t" => kernelLongSize,
            _ => 4,
        };
    }
}
