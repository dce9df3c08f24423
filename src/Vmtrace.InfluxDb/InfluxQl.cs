using System.Globalization;
using System.Text;

namespace Vmtrace.InfluxDb;

/// <summary>Quoting and small helpers for writing InfluxQL statements.</summary>
public static class InfluxQl
{
    /// <summary>A double-quoted identifier (database, retention policy, measurement, CQ name).</summary>
    public static string Identifier(string name)
    {
        var sb = new StringBuilder(name.Length + 2).Append('"');
        foreach (char c in name)
        {
            if (c is '"' or '\\')
                sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A single-quoted string literal.</summary>
    public static string StringLiteral(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        foreach (char c in value)
        {
            if (c is '\'' or '\\')
                sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }

    /// <summary>A duration literal InfluxQL accepts: whole weeks, days, hours, minutes, seconds or ms; zero means infinite (INF).</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
            return "INF";
        long ms = (long)duration.TotalMilliseconds;
        foreach (var (unit, size) in new[] { ("d", 86_400_000L), ("h", 3_600_000L), ("m", 60_000L), ("s", 1_000L) })
        {
            if (ms % size == 0)
                return (ms / size).ToString(CultureInfo.InvariantCulture) + unit;
        }
        return ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>Splits a query at the semicolons that are outside quotes (to name the statement that failed).</summary>
    public static string[] SplitStatements(string query)
    {
        var parts = new List<string>();
        int start = 0;
        char quote = '\0';
        for (int i = 0; i < query.Length; i++)
        {
            char c = query[i];
            if (quote != '\0')
            {
                if (c == '\\')
                    i++;
                else if (c == quote)
                    quote = '\0';
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == ';')
            {
                parts.Add(query[start..i].Trim());
                start = i + 1;
            }
        }
        if (start < query.Length && query[start..].Trim().Length > 0)
            parts.Add(query[start..].Trim());
        return [.. parts];
    }
}
