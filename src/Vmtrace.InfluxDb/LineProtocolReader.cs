namespace Vmtrace.InfluxDb;

/// <summary>
/// Just enough of a line-protocol parser to tell which lines a type-conflict answer means: the unescaped
/// measurement of a line and the InfluxDB type name (float, integer, unsigned, string, boolean) of one field.
/// </summary>
internal static class LineProtocolReader
{
    public static bool TryFieldType(string line, string measurement, string field, out string? type)
    {
        type = null;
        int i = 0;
        string name = ReadUntil(line, ref i, stopAtEquals: false);
        if (name != measurement)
            return false;
        // Skip the tags: they end at the first unescaped space.
        while (i < line.Length && line[i] != ' ')
            i += line[i] == '\\' ? 2 : 1;
        i++;
        while (i < line.Length)
        {
            string key = ReadUntil(line, ref i, stopAtEquals: true);
            if (i >= line.Length || line[i] != '=')
                return false;
            i++;
            int valueStart = i;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (i < line.Length && line[i] != '"')
                    i += line[i] == '\\' ? 2 : 1;
                i++;
            }
            else
            {
                while (i < line.Length && line[i] is not (',' or ' '))
                    i++;
            }
            if (key == field)
            {
                type = TypeOf(line.AsSpan(valueStart, Math.Min(i, line.Length) - valueStart));
                return true;
            }
            if (i >= line.Length || line[i] == ' ')
                return false;
            i++;
        }
        return false;
    }

    private static string TypeOf(ReadOnlySpan<char> value) => value switch
    {
        ['"', ..] => "string",
        [.., 'i'] => "integer",
        [.., 'u'] => "unsigned",
        "t" or "T" or "true" or "True" or "TRUE" or "f" or "F" or "false" or "False" or "FALSE" => "boolean",
        _ => "float",
    };

    /// <summary>Reads an escaped name up to an unescaped comma or space (and equals sign for keys), unescaping it.</summary>
    private static string ReadUntil(string line, ref int i, bool stopAtEquals)
    {
        var sb = new System.Text.StringBuilder();
        while (i < line.Length)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length && line[i + 1] is ',' or ' ' or '=' or '"')
            {
                sb.Append(line[i + 1]);
                i += 2;
                continue;
            }
            if (c is ',' or ' ' || (stopAtEquals && c == '='))
                break;
            sb.Append(c);
            i++;
        }
        return sb.ToString();
    }
}
