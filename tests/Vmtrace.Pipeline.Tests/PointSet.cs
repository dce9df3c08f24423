using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// Points as comparable text: "measurement|tag=v,…|field=v,…|time" with tags and fields sorted and numbers
/// normalised (an integer field 5i and a float 5.0 both come back from InfluxQL as 5), from line protocol
/// or from an InfluxQL answer.
/// </summary>
internal static class PointSet
{
    public static SortedSet<string> FromLineProtocol(string text)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = SplitUnescaped(raw, ' ');
            if (parts.Count != 3)
                throw new FormatException("not a line-protocol point: " + raw);
            var head = SplitUnescaped(parts[0], ',');
            string measurement = Unescape(head[0]);
            var tags = head.Skip(1).Select(t => SplitUnescaped(t, '=')).Select(kv => (Unescape(kv[0]), Unescape(kv[1]))).ToList();
            var fields = SplitUnescaped(parts[1], ',').Select(f => SplitUnescaped(f, '=')).Select(kv => (Unescape(kv[0]), FieldValue(kv[1]))).ToList();
            set.Add(Key(measurement, tags, fields, long.Parse(parts[2], CultureInfo.InvariantCulture)));
        }
        return set;
    }

    /// <summary>The answer of <c>SELECT * FROM /re/ GROUP BY *</c> with epoch=ns.</summary>
    public static SortedSet<string> FromInfluxQl(string json)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(json);
        foreach (var result in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            if (result.TryGetProperty("error", out var err))
                throw new InvalidOperationException("InfluxQL error: " + err.GetString());
            if (!result.TryGetProperty("series", out var series))
                continue;
            foreach (var s in series.EnumerateArray())
            {
                string name = s.GetProperty("name").GetString()!;
                var tags = s.TryGetProperty("tags", out var t)
                    ? t.EnumerateObject().Where(p => p.Value.GetString() is { Length: > 0 }).Select(p => (p.Name, p.Value.GetString()!)).ToList()
                    : [];
                var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
                foreach (var row in s.GetProperty("values").EnumerateArray())
                {
                    var values = row.EnumerateArray().ToList();
                    long time = values[0].GetInt64();
                    var fields = new List<(string, string)>();
                    for (int i = 1; i < columns.Count; i++)
                    {
                        if (values[i].ValueKind != JsonValueKind.Null)
                            fields.Add((columns[i], JsonValue(values[i])));
                    }
                    set.Add(Key(name, tags, fields, time));
                }
            }
        }
        return set;
    }

    private static string Key(string measurement, IEnumerable<(string, string)> tags, IEnumerable<(string, string)> fields, long time) =>
        measurement + "|" + string.Join(",", tags.OrderBy(x => x.Item1, StringComparer.Ordinal).Select(x => x.Item1 + "=" + x.Item2))
        + "|" + string.Join(",", fields.OrderBy(x => x.Item1, StringComparer.Ordinal).Select(x => x.Item1 + "=" + x.Item2))
        + "|" + time.ToString(CultureInfo.InvariantCulture);

    private static string FieldValue(string v)
    {
        if (v.StartsWith('"'))
            return "s:" + Unescape(v[1..^1]);
        if (v.EndsWith('i') || v.EndsWith('u'))
            return Integer(long.Parse(v[..^1], CultureInfo.InvariantCulture));
        if (v is "t" or "T" or "true" or "True" or "TRUE")
            return "true";
        if (v is "f" or "F" or "false" or "False" or "FALSE")
            return "false";
        return Number(double.Parse(v, CultureInfo.InvariantCulture));
    }

    private static string JsonValue(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "s:" + v.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number when v.TryGetInt64(out long l) => Integer(l),
        JsonValueKind.Number => Number(v.GetDouble()),
        _ => v.GetRawText(),
    };

    /// <summary>Beyond 1e15 InfluxDB prints an integral float as an integer: compare such values as doubles.</summary>
    private static string Integer(long l) => Math.Abs(l) < 1e15 ? l.ToString(CultureInfo.InvariantCulture) : Number(l);

    private static string Number(double d) =>
        Math.Abs(d) < 1e15 && d == Math.Floor(d) ? ((long)d).ToString(CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    private static List<string> SplitUnescaped(string s, char sep)
    {
        var parts = new List<string>();
        var cur = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\' && i + 1 < s.Length)
            {
                cur.Append(c).Append(s[++i]);
                continue;
            }
            if (c == '"')
                quoted = !quoted;
            if (c == sep && !quoted)
            {
                parts.Add(cur.ToString());
                cur.Clear();
                continue;
            }
            cur.Append(c);
        }
        parts.Add(cur.ToString());
        return parts;
    }

    private static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] is ',' or '=' or ' ' or '"' or '\\')
                i++;
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
