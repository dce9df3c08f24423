using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.InfluxDb.Tests.FakeServer;

/// <summary>413 splitting, partial-write dead letters, headers and query errors against a scripted server.</summary>
public sealed class WritePathTests
{
    private readonly FakeTimeProvider _time = new();

    private InfluxClient Client(ScriptedHandler handler, Action<InfluxOptions>? configure = null, IDeadLetterSink? deadLetters = null)
    {
        var options = new InfluxOptions { Url = new Uri("http://influx.test:8086/"), Database = "vm trace", RetentionPolicy = "raw" };
        configure?.Invoke(options);
        return new InfluxClient(options, handler, _time, deadLetters);
    }

    private static string[] Lines(int n) => [.. Enumerable.Range(0, n).Select(i => $"m v={i}i {i}")];

    [Fact]
    public async Task WriteAsync_413AboveThreeLines_SplitsInHalvesUntilEachFitsAndSendsEveryLineOnce()
    {
        var handler = new ScriptedHandler(r => ScriptedHandler.Answer(r.Lines.Length > 3 ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.NoContent,
            """{"error":"Request Entity Too Large"}"""));
        using var client = Client(handler);
        var lines = Lines(10);

        var result = await client.WriteAsync(lines);

        Assert.Equal(10, result.Stored);
        var accepted = handler.Requests.Where(r => r.Lines.Length <= 3).SelectMany(r => r.Lines).ToArray();
        Assert.Equal(lines, accepted);
        Assert.Equal([10, 5, 2, 3, 5, 2, 3], handler.Requests.Select(r => r.Lines.Length));
        Assert.Equal(3, client.Counters.Snapshot().Splits);
        Assert.Equal(0, client.Counters.Snapshot().Retries);
    }

    [Fact]
    public async Task WriteAsync_413ForASingleLine_DeadLettersThatLine()
    {
        var deadLetters = new InMemoryDeadLetterSink();
        var handler = new ScriptedHandler(r => ScriptedHandler.Answer(r.Lines.Any(l => l.Length > 20) ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.NoContent));
        using var client = Client(handler, deadLetters: deadLetters);
        string huge = "m s=\"" + new string('x', 100) + "\" 1";

        var result = await client.WriteAsync(["m v=1i 1", huge]);

        Assert.Equal(new InfluxWriteResult(1, 1, 0), result);
        Assert.Equal(huge, Assert.Single(deadLetters.Letters).Line);
        Assert.Contains("413", deadLetters.Letters[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_400PartialWrite_DeadLettersExactlyTheNamedLinesWithoutRetry()
    {
        var deadLetters = new InMemoryDeadLetterSink();
        string[] lines = ["m v=1i 1", "m v=oops 2", "m v=3i 3", "m,x v=4i 4", "m s=\"it's': tricky\",v=bad 5"];
        string answer = """{"error":"partial write: unable to parse 'm v=oops 2': invalid boolean\nunable to parse 'm,x v=4i 4': missing tag value\nunable to parse 'm s=\"it's': tricky\",v=bad 5': invalid boolean dropped=0"}""";
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.BadRequest, answer));
        using var client = Client(handler, deadLetters: deadLetters);

        var result = await client.WriteAsync(lines);

        Assert.Single(handler.Requests);
        Assert.Equal(new InfluxWriteResult(2, 3, 0), result);
        Assert.Equal([lines[1], lines[3], lines[4]], deadLetters.Letters.Select(l => l.Line));
        Assert.Equal(["invalid boolean", "missing tag value", "invalid boolean"], deadLetters.Letters.Select(l => l.Reason));
        var stats = client.Counters.Snapshot();
        Assert.Equal(3, stats.DeadLetteredLines);
        Assert.Equal(2, stats.PointsWritten);
    }

    [Fact]
    public async Task WriteAsync_PartialWriteBeyondRetention_CountsUnnamedDrops()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.BadRequest, """{"error":"partial write: points beyond retention policy dropped=2"}"""));
        using var client = Client(handler);

        var result = await client.WriteAsync(Lines(5));

        Assert.Equal(new InfluxWriteResult(3, 0, 2), result);
        Assert.Equal(2, client.Counters.Snapshot().UnidentifiedDroppedLines);
    }

    [Fact]
    public async Task WriteAsync_Defaults_PostsGzippedNanosecondLinesToDbAndRp()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent));
        using var client = Client(handler);

        await client.WriteAsync(["m v=1i 1"]);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://influx.test:8086/write?db=vm%20trace&rp=raw&precision=ns", request.Uri.AbsoluteUri);
        Assert.Equal(["gzip"], request.ContentEncoding);
        Assert.Equal(["m v=1i 1"], request.Lines);
        Assert.Null(request.Authorization);
    }

    [Theory]
    [InlineData("secret-token", null, null, "Token secret-token")]
    [InlineData(null, "admin", "pw", "Basic YWRtaW46cHc=")]
    public async Task WriteAsync_Credentials_SendsTokenOrBasicAuthorization(string? token, string? user, string? password, string expected)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent));
        using var client = Client(handler, o => { o.Token = token; o.Username = user; o.Password = password; });

        await client.WriteAsync(["m v=1i 1"]);

        Assert.Equal(expected, Assert.Single(handler.Requests).Authorization);
    }

    [Fact]
    public async Task QueryAsync_TopLevelErrorIn200_ThrowsWithIt()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.OK, """{"error":"database is being dropped"}"""));
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW MEASUREMENTS"));

        Assert.Contains("database is being dropped", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SHOW MEASUREMENTS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_SecondStatementFails_ExceptionNamesThatStatement()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.OK,
            """{"results":[{"statement_id":0},{"statement_id":1,"error":"retention policy not found: x"}]}"""));
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("CREATE DATABASE \"a;b\"; DROP RETENTION POLICY x ON \"a;b\""));

        Assert.Equal("DROP RETENTION POLICY x ON \"a;b\"", ex.Query);
        Assert.Contains("statement 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("retention policy not found: x", ex.Message, StringComparison.Ordinal);
    }
}
