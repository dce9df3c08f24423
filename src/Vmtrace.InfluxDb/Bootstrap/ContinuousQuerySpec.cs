namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>
/// A continuous query downsampling every measurement of one retention policy into another:
/// <c>SELECT sum(*), mean(*), max(*) INTO "db"."target".:MEASUREMENT FROM "db"."source"./.*/ GROUP BY time(interval), *</c>.
/// Each numeric field <c>x</c> becomes <c>sum_x</c> (for counters and ns totals: window totals add up),
/// <c>mean_x</c> (for ratios and gauges such as pcpu_share) and <c>max_x</c> (for peaks such as max_in_flight);
/// string and boolean fields are skipped by these functions. All tags are kept (GROUP BY *), so a rollup point
/// has the same series key as its raw points.
/// <para><c>RESAMPLE FOR lookback</c>: a plain CQ computes each interval once, right after it ends, so points the
/// worker writes later (window lag, an InfluxDB outage, a restart that recomputes from a checkpoint) would never
/// reach the rollup; recomputing the last <paramref name="Lookback"/> at every run picks them up.</para>
/// </summary>
public sealed record ContinuousQuerySpec(string Name, string SourcePolicy, string TargetPolicy, TimeSpan Interval, TimeSpan Lookback)
{
    /// <summary>The CREATE statement, written in the form InfluxDB echoes back in SHOW CONTINUOUS QUERIES (minus quotes).</summary>
    public string CreateStatement(string database) =>
        $"CREATE CONTINUOUS QUERY {InfluxQl.Identifier(Name)} ON {InfluxQl.Identifier(database)} " +
        $"RESAMPLE FOR {InfluxQl.Duration(Lookback)} BEGIN " +
        $"SELECT sum(*), mean(*), max(*) INTO {InfluxQl.Identifier(database)}.{InfluxQl.Identifier(TargetPolicy)}.:MEASUREMENT " +
        $"FROM {InfluxQl.Identifier(database)}.{InfluxQl.Identifier(SourcePolicy)}./.*/ " +
        $"GROUP BY time({InfluxQl.Duration(Interval)}), * END";
}
