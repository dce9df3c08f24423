using System.Text;
using System.Text.Json;

namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>
/// Creates vmtrace's database, retention policies and rollup continuous queries, idempotently: what exists as
/// wanted is left alone, what is missing is created, and what exists with another definition is a conflict —
/// reported with what is there and what was wanted, and altered (RP) or dropped and re-created (CQ) only with
/// <see cref="BootstrapOptions.Force"/>. Nothing is changed when there is a conflict and no force.
/// Used by <c>vmtrace influx init</c> and by the worker at start.
/// </summary>
public sealed class InfluxBootstrap(InfluxClient client)
{
    /// <summary>Runs the bootstrap; returns one line per object saying what was done.</summary>
    public async Task<IReadOnlyList<string>> RunAsync(BootstrapOptions options, CancellationToken cancellationToken = default)
    {
        string db = InfluxQl.Identifier(options.Database);
        var report = new List<string>();
        var actions = new List<(string Statement, string Report)>();
        var conflicts = new List<string>();

        var databases = await client.QueryAsync("SHOW DATABASES", cancellationToken).ConfigureAwait(false);
        bool dbExists = databases.Series.SelectMany(s => s.Column("name")).Any(n => n.GetString() == options.Database);
        if (!dbExists)
        {
            // CREATE DATABASE alone also creates "autogen" as default; raw takes the default below.
            await client.QueryAsync($"CREATE DATABASE {db}", cancellationToken).ConfigureAwait(false);
            report.Add($"database {options.Database}: created");
        }
        else
        {
            report.Add($"database {options.Database}: exists");
        }

        var existingPolicies = await RetentionPoliciesAsync(db, cancellationToken).ConfigureAwait(false);
        foreach (var want in options.RetentionPolicies)
        {
            string definition = $"DURATION {InfluxQl.Duration(want.Duration)} REPLICATION 1{(want.IsDefault ? " DEFAULT" : "")}";
            if (!existingPolicies.TryGetValue(want.Name, out var have))
            {
                actions.Add(($"CREATE RETENTION POLICY {InfluxQl.Identifier(want.Name)} ON {db} {definition}",
                    $"retention policy {want.Name}: created ({Describe(want.Duration, want.IsDefault)})"));
                continue;
            }
            if (have.Duration == want.Duration && have.IsDefault == want.IsDefault)
            {
                report.Add($"retention policy {want.Name}: exists ({Describe(want.Duration, want.IsDefault)})");
                continue;
            }
            string conflict = $"retention policy {want.Name} on {options.Database} is {Describe(have.Duration, have.IsDefault)}, wanted {Describe(want.Duration, want.IsDefault)}";
            if (options.Force)
                actions.Add(($"ALTER RETENTION POLICY {InfluxQl.Identifier(want.Name)} ON {db} {definition}", conflict + ": altered"));
            else
                conflicts.Add(conflict);
        }

        var existingQueries = await ContinuousQueriesAsync(options.Database, cancellationToken).ConfigureAwait(false);
        foreach (var want in options.ContinuousQueries)
        {
            string create = want.CreateStatement(options.Database);
            if (!existingQueries.TryGetValue(want.Name, out string? have))
            {
                actions.Add((create, $"continuous query {want.Name}: created ({want.SourcePolicy} → {want.TargetPolicy} every {InfluxQl.Duration(want.Interval)})"));
                continue;
            }
            if (Canonical(have) == Canonical(create))
            {
                report.Add($"continuous query {want.Name}: exists");
                continue;
            }
            string conflict = $"continuous query {want.Name} on {options.Database} is '{have}', wanted '{create}'";
            if (options.Force)
            {
                // A continuous query cannot be altered: drop and re-create it.
                actions.Add(($"DROP CONTINUOUS QUERY {InfluxQl.Identifier(want.Name)} ON {db}", conflict + ": dropped"));
                actions.Add((create, $"continuous query {want.Name}: re-created"));
            }
            else
            {
                conflicts.Add(conflict);
            }
        }

        if (conflicts.Count > 0)
            throw new BootstrapConflictException(conflicts);
        foreach (var (statement, line) in actions)
        {
            await client.QueryAsync(statement, cancellationToken).ConfigureAwait(false);
            report.Add(line);
        }
        return report;
    }

    private async Task<Dictionary<string, (TimeSpan Duration, bool IsDefault)>> RetentionPoliciesAsync(string db, CancellationToken cancellationToken)
    {
        var result = await client.QueryAsync($"SHOW RETENTION POLICIES ON {db}", cancellationToken).ConfigureAwait(false);
        var policies = new Dictionary<string, (TimeSpan, bool)>(StringComparer.Ordinal);
        foreach (var series in result.Series)
        {
            int name = IndexOf(series, "name"), duration = IndexOf(series, "duration"), isDefault = IndexOf(series, "default");
            foreach (var row in series.Values)
                policies[row[name].GetString()!] = (GoDuration.Parse(row[duration].GetString()!), row[isDefault].ValueKind == JsonValueKind.True);
        }
        return policies;
    }

    private async Task<Dictionary<string, string>> ContinuousQueriesAsync(string database, CancellationToken cancellationToken)
    {
        var result = await client.QueryAsync("SHOW CONTINUOUS QUERIES", cancellationToken).ConfigureAwait(false);
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        // One series per database, named after it.
        foreach (var series in result.Series.Where(s => s.Name == database))
        {
            int name = IndexOf(series, "name"), query = IndexOf(series, "query");
            foreach (var row in series.Values)
                queries[row[name].GetString()!] = row[query].GetString()!;
        }
        return queries;
    }

    private static int IndexOf(InfluxSeries series, string column)
    {
        int index = series.Columns.ToList().IndexOf(column);
        return index >= 0 ? index : throw new InfluxException($"unexpected answer from InfluxDB: series '{series.Name}' has no column '{column}' (columns: {string.Join(", ", series.Columns)})");
    }

    /// <summary>InfluxDB echoes a CQ without the quotes it does not need: compare without quotes and extra blanks.</summary>
    internal static string Canonical(string statement)
    {
        var sb = new StringBuilder(statement.Length);
        bool blank = false;
        foreach (char c in statement.Trim())
        {
            if (c == '"')
                continue;
            if (char.IsWhiteSpace(c))
            {
                blank = true;
                continue;
            }
            if (blank)
                sb.Append(' ');
            blank = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string Describe(TimeSpan duration, bool isDefault) =>
        (duration == TimeSpan.Zero ? "infinite" : InfluxQl.Duration(duration)) + (isDefault ? ", default" : ", not default");
}
