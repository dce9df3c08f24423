using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.InfluxDb.Tests.FakeServer;

/// <summary>Retries, Retry-After, the circuit breaker and non-retried errors, against a scripted server in fake time.</summary>
public sealed class ResilienceTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InfluxClient Client(ScriptedHandler handler, Action<InfluxOptions>? configure = null, IDeadLetterSink? deadLetters = null)
    {
        var options = new InfluxOptions { Url = new Uri("http://influx.test:8086"), Database = "vmtrace" };
        configure?.Invoke(options);
        return new InfluxClient(options, handler, _time, deadLetters);
    }

    [Theory]
    [InlineData(7, 7)]
    [InlineData(120, 120)]
    [InlineData(3600, 300)]
    public async Task WriteAsync_429WithRetryAfter_WaitsThatLongUpToTheLimitThenSucceeds(int retryAfterSeconds, int expectedWaitSeconds)
    {
        int calls = 0;
        var handler = new ScriptedHandler(_ =>
        {
            if (Interlocked.Increment(ref calls) > 1)
                return ScriptedHandler.Answer(HttpStatusCode.NoContent);
            var busy = ScriptedHandler.Answer(HttpStatusCode.TooManyRequests);
            busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));
            return busy;
        }) { Time = _time };
        using var client = Client(handler);

        var result = await _time.RunAsync(client.WriteAsync(["m v=1i 1"]), TimeSpan.FromSeconds(1), TimeSpan.FromHours(2));

        Assert.Equal(1, result.Stored);
        var requests = handler.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(TimeSpan.FromSeconds(expectedWaitSeconds), requests[1].At - requests[0].At);
        Assert.Equal(1, client.Counters.Snapshot().Retries);
    }

    [Fact]
    public async Task WriteAsync_503Then500_RetriedWithBackoffThenSucceeds()
    {
        var answers = new Queue<HttpStatusCode>([HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError, HttpStatusCode.NoContent]);
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(answers.Dequeue())) { Time = _time };
        using var client = Client(handler, o => o.RetryBaseDelay = TimeSpan.FromSeconds(1));

        var result = await _time.RunAsync(client.WriteAsync(["m v=1i 1", "m v=2i 2"]), Step, TimeSpan.FromMinutes(5));

        Assert.Equal(2, result.Stored);
        var requests = handler.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(["m v=1i 1", "m v=2i 2"], r.Lines));
        // Back-off waits happened (jittered, so only their presence is fixed).
        Assert.True(requests[1].At > requests[0].At && requests[2].At > requests[1].At);
        var stats = client.Counters.Snapshot();
        Assert.Equal(2, stats.Retries);
        Assert.Equal(2, stats.PointsWritten);
        Assert.Equal(0, stats.Failures);
    }

    [Fact]
    public async Task WriteAsync_5xxEveryTime_FailsAfterTheRetriesNamingStatusAndUrl()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.BadGateway, """{"error":"upstream down"}""")) { Time = _time };
        using var client = Client(handler, o => { o.MaxRetries = 3; o.CircuitMinimumThroughput = 100; });

        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => _time.RunAsync(client.WriteAsync(["m v=1i 1"]), Step, TimeSpan.FromMinutes(10)));

        Assert.Equal(502, ex.StatusCode);
        Assert.Contains("http://influx.test:8086/write?db=vmtrace", ex.Message, StringComparison.Ordinal);
        Assert.Contains("upstream down", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, handler.Requests.Count);
        Assert.Equal(1, client.Counters.Snapshot().Failures);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"authorization failed"}""")]
    [InlineData(HttpStatusCode.Forbidden, """{"code":"forbidden","message":"insufficient permissions"}""")]
    [InlineData(HttpStatusCode.NotFound, """{"error":"database not found: \"vmtrace\""}""")]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"bad timestamp"}""")]
    public async Task WriteAsync_Other4xx_NotRetriedAndReported(HttpStatusCode status, string body)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(status, body)) { Time = _time };
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => client.WriteAsync(["m v=1i 1"]));

        Assert.Single(handler.Requests);
        Assert.Equal((int)status, ex.StatusCode);
        Assert.Contains(InfluxClient.TryErrorField(body)!, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, client.Counters.Snapshot().Retries);
    }

    [Fact]
    public async Task WriteAsync_RepeatedFailures_CircuitOpensThenClosesAfterTheBreak()
    {
        bool healthy = false;
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(healthy ? HttpStatusCode.NoContent : HttpStatusCode.InternalServerError)) { Time = _time };
        using var client = Client(handler, o =>
        {
            o.MaxRetries = 0;
            o.CircuitMinimumThroughput = 3;
            o.CircuitFailureRatio = 0.5;
            o.CircuitBreakDuration = TimeSpan.FromSeconds(15);
        });
        for (int i = 0; i < 3; i++)
            await Assert.ThrowsAsync<InfluxWriteException>(() => client.WriteAsync(["m v=1i 1"]));
        healthy = true;

        var open = await Assert.ThrowsAsync<InfluxWriteException>(() => client.WriteAsync(["m v=1i 1"]));

        Assert.Contains("circuit open", open.Message, StringComparison.Ordinal);
        Assert.Equal(3, handler.Requests.Count);
        _time.Advance(TimeSpan.FromSeconds(16));
        var result = await client.WriteAsync(["m v=1i 1"]);
        Assert.Equal(1, result.Stored);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task WriteAsync_UnreachableServer_ErrorNamesTheUrl()
    {
        // A port nothing listens on: bind one, then free it.
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = new InfluxClient(new InfluxOptions { Url = new Uri($"http://127.0.0.1:{port}"), MaxRetries = 2 }, time: _time);

        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => _time.RunAsync(client.WriteAsync(["m v=1i 1"]), Step, TimeSpan.FromMinutes(5)));

        Assert.Contains($"http://127.0.0.1:{port}/write?db=vmtrace", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.StatusCode);
        var stats = client.Counters.Snapshot();
        Assert.Equal(2, stats.Retries);
        Assert.Equal(1, stats.Failures);
    }
}
