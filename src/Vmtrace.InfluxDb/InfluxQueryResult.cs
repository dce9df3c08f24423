using System.Text.Json;

namespace Vmtrace.InfluxDb;

/// <summary>The answer to one <c>/query</c> request: one result per statement, each with its series.</summary>
public sealed class InfluxQueryResult
{
    private InfluxQueryResult(IReadOnlyList<InfluxStatementResult> statements) => Statements = statements;

    public IReadOnlyList<InfluxStatementResult> Statements { get; }

    /// <summary>All series of all statements.</summary>
    public IEnumerable<InfluxSeries> Series => Statements.SelectMany(s => s.Series);

    /// <summary>Parses a 200 answer; a top-level or per-statement <c>error</c> throws, naming the statement.</summary>
    internal static InfluxQueryResult Parse(string json, string query, Uri uri)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InfluxQueryException($"InfluxDB at {uri} answered the query '{query}' with something that is not JSON: {Shorten(json)}", query, ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InfluxQueryException($"InfluxDB at {uri} answered the query '{query}' with unexpected JSON: {Shorten(json)}", query);
            if (root.TryGetProperty("error", out var topError))
                throw new InfluxQueryException($"InfluxDB at {uri} failed the query '{query}': {topError}", query);
            var statements = new List<InfluxStatementResult>();
            if (root.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array)
            {
                string[] texts = InfluxQl.SplitStatements(query);
                foreach (var result in results.EnumerateArray())
                {
                    int id = result.TryGetProperty("statement_id", out var sid) && sid.TryGetInt32(out int n) ? n : statements.Count;
                    if (result.TryGetProperty("error", out var error))
                    {
                        string statement = id < texts.Length ? texts[id] : query;
                        throw new InfluxQueryException(
                            $"InfluxDB at {uri} failed statement {id} '{statement}': {error.GetString() ?? error.ToString()}", statement);
                    }
                    statements.Add(new InfluxStatementResult(id, ReadSeries(result)));
                }
            }
            return new InfluxQueryResult(statements);
        }
    }

    private static List<InfluxSeries> ReadSeries(JsonElement result)
    {
        var list = new List<InfluxSeries>();
        if (!result.TryGetProperty("series", out var series) || series.ValueKind != JsonValueKind.Array)
            return list;
        foreach (var s in series.EnumerateArray())
        {
            string name = s.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            if (s.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in t.EnumerateObject())
                    tags[p.Name] = p.Value.GetString() ?? "";
            }
            var columns = s.TryGetProperty("columns", out var c) ? c.EnumerateArray().Select(x => x.GetString() ?? "").ToArray() : [];
            var rows = new List<JsonElement[]>();
            if (s.TryGetProperty("values", out var v) && v.ValueKind == JsonValueKind.Array)
            {
                foreach (var row in v.EnumerateArray())
                    rows.Add([.. row.EnumerateArray().Select(x => x.Clone())]);
            }
            list.Add(new InfluxSeries(name, tags, columns, rows));
        }
        return list;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

public sealed record InfluxStatementResult(int StatementId, IReadOnlyList<InfluxSeries> Series);

/// <summary>One series of a result: its name, group-by tags, columns and rows (cells as JSON values).</summary>
public sealed record InfluxSeries(string Name, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> Columns, IReadOnlyList<JsonElement[]> Values)
{
    /// <summary>The cells of column <paramref name="column"/>, one per row.</summary>
    public IEnumerable<JsonElement> Column(string column)
    {
        int index = Columns.ToList().IndexOf(column);
        if (index < 0)
            throw new KeyNotFoundException($"series '{Name}' has no column '{column}' (columns: {string.Join(", ", Columns)})");
        return Values.Select(row => row[index]);
    }
}
