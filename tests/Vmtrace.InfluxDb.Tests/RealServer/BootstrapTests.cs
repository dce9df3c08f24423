using Vmtrace.InfluxDb.Bootstrap;
using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

public sealed class BootstrapTests(InfluxServer server) : IClassFixture<InfluxServer>
{
    [InfluxFact]
    public async Task RunAsync_FreshServer_CreatesDatabasePoliciesAndQueries()
    {
        string db = RealInflux.NewDatabase();
        using var client = RealInflux.Client(server, db);

        await new InfluxBootstrap(client).RunAsync(new BootstrapOptions { Database = db });

        Assert.Equal(
            ["autogen 0s False", "raw 168h0m0s True", "rollup_1h 26280h0m0s False", "rollup_1m 2160h0m0s False"],
            await PoliciesAsync(client, db));
        var queries = await QueriesAsync(client, db);
        Assert.Equal(["vmtrace_rollup_1h", "vmtrace_rollup_1m"], queries.Keys.Order(StringComparer.Ordinal));
        Assert.Contains($"INTO {db}.rollup_1m.:MEASUREMENT FROM {db}.raw./.*/ GROUP BY time(1m), *", queries["vmtrace_rollup_1m"], StringComparison.Ordinal);
        // Late points (window lag, outages, recomputation after a restart) still reach the rollups.
        Assert.Contains($"ON {db} RESAMPLE FOR 10m BEGIN", queries["vmtrace_rollup_1m"], StringComparison.Ordinal);
        Assert.Contains($"ON {db} RESAMPLE FOR 2h BEGIN", queries["vmtrace_rollup_1h"], StringComparison.Ordinal);
    }

    [InfluxFact]
    public async Task RunAsync_Twice_SecondRunChangesNothing()
    {
        string db = RealInflux.NewDatabase();
        using var client = RealInflux.Client(server, db);
        var bootstrap = new InfluxBootstrap(client);
        await bootstrap.RunAsync(new BootstrapOptions { Database = db });
        var policies = await PoliciesAsync(client, db);
        var queries = await QueriesAsync(client, db);

        var report = await bootstrap.RunAsync(new BootstrapOptions { Database = db });

        Assert.Equal(policies, await PoliciesAsync(client, db));
        Assert.Equal(queries, await QueriesAsync(client, db));
        Assert.All(report, line => Assert.Contains("exists", line, StringComparison.Ordinal));
        Assert.Equal(6, report.Count);
    }

    [InfluxFact]
    public async Task RunAsync_PolicyWithOtherDuration_FailsNamingItAndChangesNothing()
    {
        string db = RealInflux.NewDatabase();
        using var client = RealInflux.Client(server, db);
        await client.QueryAsync($"CREATE DATABASE {db}; CREATE RETENTION POLICY rollup_1m ON {db} DURATION 30d REPLICATION 1");

        var ex = await Assert.ThrowsAsync<BootstrapConflictException>(() => new InfluxBootstrap(client).RunAsync(new BootstrapOptions { Database = db }));

        var conflict = Assert.Single(ex.Conflicts);
        Assert.Equal($"retention policy rollup_1m on {db} is 30d, not default, wanted 90d, not default", conflict);
        Assert.Contains("--force", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["autogen 0s True", "rollup_1m 720h0m0s False"], await PoliciesAsync(client, db));
        Assert.Empty(await QueriesAsync(client, db));
    }

    [InfluxFact]
    public async Task RunAsync_ConflictWithForce_AltersPolicyAndReplacesQuery()
    {
        string db = RealInflux.NewDatabase();
        using var client = RealInflux.Client(server, db);
        await client.QueryAsync($"CREATE DATABASE {db}; CREATE RETENTION POLICY raw ON {db} DURATION 1d REPLICATION 1; " +
            $"CREATE RETENTION POLICY rollup_1m ON {db} DURATION 90d REPLICATION 1; " +
            $"CREATE CONTINUOUS QUERY vmtrace_rollup_1m ON {db} BEGIN SELECT mean(*) INTO {db}.rollup_1m.:MEASUREMENT FROM {db}.raw./.*/ GROUP BY time(5m), * END");

        var report = await new InfluxBootstrap(client).RunAsync(new BootstrapOptions { Database = db, Force = true });

        Assert.Contains(report, l => l.StartsWith("retention policy raw on", StringComparison.Ordinal) && l.EndsWith("altered", StringComparison.Ordinal));
        Assert.Contains("raw 168h0m0s True", await PoliciesAsync(client, db));
        Assert.Contains("SELECT sum(*), mean(*), max(*)", (await QueriesAsync(client, db))["vmtrace_rollup_1m"], StringComparison.Ordinal);
    }

    /// <summary>The CQ's SELECT, run by hand over raw points: numeric fields are summed, averaged and maxed per minute, strings skipped.</summary>
    [InfluxFact]
    public async Task RollupSelect_RawPoints_WritesSumMeanMaxPerMinuteKeepingTags()
    {
        string db = RealInflux.NewDatabase();
        using var client = RealInflux.Client(server, db);
        await new InfluxBootstrap(client).RunAsync(new BootstrapOptions { Database = db });
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 - 10) * 60 * 1_000_000_000L;
        client.Options.RetentionPolicy = "raw";
        await client.WriteAsync([
            $"vmtrace_vm,host=h1,vm=web guest_ns=100i,pcpu_share=0.5,note=\"x\" {t0}",
            $"vmtrace_vm,host=h1,vm=web guest_ns=300i,pcpu_share=1.5,note=\"y\" {t0 + 30_000_000_000}",
        ]);

        await client.QueryAsync($"SELECT sum(*), mean(*), max(*) INTO {db}.rollup_1m.:MEASUREMENT FROM {db}.raw./.*/ " +
            $"WHERE time >= {t0} AND time < {t0 + 60_000_000_000} GROUP BY time(1m), *");

        var rolled = await client.QueryAsync($"SELECT sum_guest_ns, mean_pcpu_share, max_guest_ns, vm FROM {db}.rollup_1m.vmtrace_vm");
        var row = Assert.Single(Assert.Single(rolled.Series).Values);
        Assert.Equal(400, row[1].GetInt64());
        Assert.Equal(1.0, row[2].GetDouble());
        Assert.Equal(300, row[3].GetInt64());
        Assert.Equal("web", row[4].GetString());
    }

    private static async Task<List<string>> PoliciesAsync(InfluxClient client, string db)
    {
        var answer = await client.QueryAsync($"SHOW RETENTION POLICIES ON {db}");
        return [.. Assert.Single(answer.Series).Values.Select(r => $"{r[0].GetString()} {r[1].GetString()} {r[4].GetBoolean()}").Order(StringComparer.Ordinal)];
    }

    private static async Task<Dictionary<string, string>> QueriesAsync(InfluxClient client, string db)
    {
        var answer = await client.QueryAsync("SHOW CONTINUOUS QUERIES");
        return answer.Series.Where(s => s.Name == db).SelectMany(s => s.Values).ToDictionary(r => r[0].GetString()!, r => r[1].GetString()!);
    }
}
