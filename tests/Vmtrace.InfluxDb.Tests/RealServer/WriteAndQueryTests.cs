using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

/// <summary>Writes and queries against a real influxd 1.x.</summary>
public sealed class WriteAndQueryTests(InfluxServer server) : IClassFixture<InfluxServer>
{
    private const long T0 = 1_700_000_000_000_000_000;

    [InfluxTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteAsync_PointsGzippedOrPlain_QueriedBackWithTheirValues(bool gzip)
    {
        using var client = await RealInflux.NewDatabaseAsync(server, gzip);
        string[] lines =
        [
            RealInflux.Line(w => w.Begin("vmtrace_vm").Tag("host", "h1").Tag("vm", "web").Field("guest_ns", 1000L).Field("pcpu_share", 0.25).End(T0)),
            RealInflux.Line(w => w.Begin("vmtrace_vm").Tag("host", "h1").Tag("vm", "web").Field("guest_ns", 3000L).Field("pcpu_share", 0.75).End(T0 + 1_000_000_000)),
            RealInflux.Line(w => w.Begin("vmtrace_vm").Tag("host", "h1").Tag("vm", "db").Field("guest_ns", 5L).Field("pcpu_share", 1.0).End(T0)),
        ];

        var result = await client.WriteAsync(lines);

        Assert.Equal(new InfluxWriteResult(3, 0, 0), result);
        var answer = await client.QueryAsync("SELECT sum(guest_ns), mean(pcpu_share) FROM vmtrace_vm WHERE vm = 'web'");
        var row = Assert.Single(Assert.Single(answer.Series).Values);
        Assert.Equal(4000, row[1].GetInt64());
        Assert.Equal(0.5, row[2].GetDouble());
        var stats = client.Counters.Snapshot();
        Assert.Equal(3, stats.PointsWritten);
        Assert.Equal(1, stats.Requests);
        Assert.True(stats.BytesSent > 0);
    }

    [InfluxFact]
    public async Task WriteAsync_GzipBody_IsSmallerThanPlainForTheSamePoints()
    {
        using var gz = await RealInflux.NewDatabaseAsync(server, gzip: true);
        using var plain = await RealInflux.NewDatabaseAsync(server, gzip: false);
        var lines = Enumerable.Range(0, 500)
            .Select(i => RealInflux.Line(w => w.Begin("vmtrace_vcpu").Tag("host", "h1").Tag("vm", "web").Tag("vcpu", "0").Field("guest_ns", (long)i).End(T0 + i)))
            .ToArray();

        await gz.WriteAsync(lines);
        await plain.WriteAsync(lines);

        Assert.True(gz.Counters.Snapshot().BytesSent * 5 < plain.Counters.Snapshot().BytesSent);
        var count = await gz.QueryAsync("SELECT count(guest_ns) FROM vmtrace_vcpu");
        Assert.Equal(500, Assert.Single(Assert.Single(count.Series).Values)[1].GetInt64());
    }

    [InfluxFact]
    public async Task WriteAsync_MoreLinesThanOneRequest_SendsSeveralRequestsAndStoresAll()
    {
        using var client = await RealInflux.NewDatabaseAsync(server);
        client.Options.MaxLinesPerRequest = 100;
        var lines = Enumerable.Range(0, 250).Select(i => $"m v={i}i {T0 + i}").ToArray();

        var result = await client.WriteAsync(lines);

        Assert.Equal(250, result.Stored);
        Assert.Equal(3, client.Counters.Snapshot().Requests);
        var count = await client.QueryAsync("SELECT count(v) FROM m");
        Assert.Equal(250, Assert.Single(Assert.Single(count.Series).Values)[1].GetInt64());
    }

    [InfluxFact]
    public async Task WriteAsync_SomeLinesUnparsable_StoresTheRestAndDeadLettersExactlyTheBadOnes()
    {
        var deadLetters = new InMemoryDeadLetterSink();
        using var client = await RealInflux.NewDatabaseAsync(server, deadLetters: deadLetters);
        string[] lines = [$"m v=1i {T0}", $"m v=notanumber {T0 + 1}", $"m v=3i {T0 + 2}", $"m,novalue v=4i {T0 + 3}", $"m v=5i {T0 + 4}"];

        var result = await client.WriteAsync(lines);

        Assert.Equal(new InfluxWriteResult(3, 2, 0), result);
        Assert.Equal([lines[1], lines[3]], deadLetters.Letters.Select(l => l.Line).Order(StringComparer.Ordinal).ToArray());
        Assert.All(deadLetters.Letters, l => Assert.False(string.IsNullOrWhiteSpace(l.Reason)));
        var count = await client.QueryAsync("SELECT count(v) FROM m");
        Assert.Equal(3, Assert.Single(Assert.Single(count.Series).Values)[1].GetInt64());
        Assert.Equal(2, client.Counters.Snapshot().DeadLetteredLines);
    }

    [InfluxFact]
    public async Task WriteAsync_FieldTypeConflict_DeadLettersTheConflictingLineOnly()
    {
        var deadLetters = new InMemoryDeadLetterSink();
        using var client = await RealInflux.NewDatabaseAsync(server, deadLetters: deadLetters);
        await client.WriteAsync([$"m v=1i {T0}"]);
        string[] lines = [$"m v=2i {T0 + 1}", $"m v=2.5 {T0 + 2}", $"other v=2.5 {T0 + 3}"];

        var result = await client.WriteAsync(lines);

        Assert.Equal(new InfluxWriteResult(2, 1, 0), result);
        var letter = Assert.Single(deadLetters.Letters);
        Assert.Equal(lines[1], letter.Line);
        Assert.Contains("field type conflict", letter.Reason, StringComparison.Ordinal);
    }

    [InfluxFact]
    public async Task QueryAsync_StatementFailsInsideA200Answer_ThrowsNamingTheStatement()
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() =>
            client.QueryAsync("SHOW DATABASES; CREATE RETENTION POLICY \"r\" ON \"no_such_db\" DURATION 1d REPLICATION 1"));

        Assert.Contains("statement 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_db", ex.Message, StringComparison.Ordinal);
        Assert.Contains("database not found", ex.Message, StringComparison.Ordinal);
    }

    [InfluxFact]
    public async Task QueryAsync_SyntaxError_ThrowsWithTheParserMessage()
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SELECT bad syntax"));

        Assert.Contains("SELECT bad syntax", ex.Message, StringComparison.Ordinal);
        Assert.Contains("error parsing query", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url, ex.Message, StringComparison.Ordinal);
    }

    [InfluxFact]
    public async Task WriteAsync_DatabaseMissing_ThrowsNamingUrlAndServerAnswer()
    {
        using var client = RealInflux.Client(server, "never_created");

        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => client.WriteAsync([$"m v=1i {T0}"]));

        Assert.Equal(404, ex.StatusCode);
        Assert.Contains("database not found", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url + "/write?db=never_created", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Counters.Snapshot().Requests);
    }

    [InfluxFact]
    public async Task PingAsync_RunningServer_ReturnsItsVersion()
    {
        using var client = RealInflux.Client(server, "x");

        string? version = await client.PingAsync();

        Assert.StartsWith("1.", version, StringComparison.Ordinal);
    }
}
