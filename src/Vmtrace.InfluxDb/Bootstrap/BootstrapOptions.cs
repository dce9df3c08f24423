namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>What <see cref="InfluxBootstrap"/> sets up. The defaults are vmtrace's schema (docs/influxdb.md).</summary>
public sealed class BootstrapOptions
{
    public const string RawPolicy = "raw";
    public const string Rollup1mPolicy = "rollup_1m";
    public const string Rollup1hPolicy = "rollup_1h";

    public string Database { get; set; } = "vmtrace";

    /// <summary>Raw points (the default policy, written by the worker): 7 days.</summary>
    public TimeSpan RawDuration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>One-minute rollups: 90 days.</summary>
    public TimeSpan Rollup1mDuration { get; set; } = TimeSpan.FromDays(90);

    /// <summary>One-hour rollups: 3 years (3 × 365 days; InfluxQL has no year unit).</summary>
    public TimeSpan Rollup1hDuration { get; set; } = TimeSpan.FromDays(3 * 365);

    /// <summary>Alter retention policies and replace continuous queries that differ, instead of failing.</summary>
    public bool Force { get; set; }

    public IReadOnlyList<RetentionPolicySpec> RetentionPolicies =>
    [
        new(RawPolicy, RawDuration, IsDefault: true),
        new(Rollup1mPolicy, Rollup1mDuration),
        new(Rollup1hPolicy, Rollup1hDuration),
    ];

    /// <summary>
    /// Both rollups read the raw policy (raw is kept 7 days, longer than the hour a 1 h CQ looks back), so
    /// rollup_1m and rollup_1h carry the same field names (sum_x, mean_x, max_x) instead of sum_sum_x.
    /// </summary>
    public IReadOnlyList<ContinuousQuerySpec> ContinuousQueries =>
    [
        // Look back far enough for late points: 10 minutes covers window lag, outages and worker restarts of
        // minutes; an hour rollup redoes the previous hour too.
        new("vmtrace_rollup_1m", RawPolicy, Rollup1mPolicy, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10)),
        new("vmtrace_rollup_1h", RawPolicy, Rollup1hPolicy, TimeSpan.FromHours(1), TimeSpan.FromHours(2)),
    ];
}
