using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.InfluxDb.Tests.FakeServer;

public sealed class BatchingWriterTests
{
    private readonly FakeTimeProvider _time = new();

    private InfluxClient Client(ScriptedHandler handler) =>
        new(new InfluxOptions { Url = new Uri("http://influx.test:8086"), MaxRetries = 0, CircuitMinimumThroughput = 100 }, handler, _time);

    [Fact]
    public async Task EnqueueAsync_BatchSizeReached_WritesAFullBatchWithoutWaitingForTime()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent));
        using var client = Client(handler);
        await using var writer = new InfluxBatchingWriter(client, new InfluxBatchingOptions { BatchSize = 3, FlushInterval = TimeSpan.FromHours(1) }, _time);

        foreach (var line in new[] { "m v=1i 1", "m v=2i 2", "m v=3i 3", "m v=4i 4" })
            await writer.EnqueueAsync(line);
        await WaitUntilAsync(() => handler.Requests.Count >= 1);

        Assert.Equal(["m v=1i 1", "m v=2i 2", "m v=3i 3"], Assert.Single(handler.Requests).Lines);
    }

    [Fact]
    public async Task EnqueueAsync_FewLines_WrittenWhenTheFlushIntervalPasses()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent)) { Time = _time };
        using var client = Client(handler);
        await using var writer = new InfluxBatchingWriter(client, new InfluxBatchingOptions { BatchSize = 100, FlushInterval = TimeSpan.FromSeconds(2) }, _time);
        var enqueuedAt = _time.GetUtcNow();
        await writer.EnqueueAsync("m v=1i 1");
        await writer.EnqueueAsync("m v=2i 2");
        await Settle();
        Assert.Empty(handler.Requests);

        var written = Task.Run(() => WaitUntilAsync(() => handler.Requests.Count >= 1)).ContinueWith(_ => 0, TaskScheduler.Default);
        await _time.RunAsync(written, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1));

        var request = Assert.Single(handler.Requests);
        Assert.Equal(["m v=1i 1", "m v=2i 2"], request.Lines);
        Assert.True(request.At - enqueuedAt >= TimeSpan.FromSeconds(2), $"written after {request.At - enqueuedAt}");
    }

    [Fact]
    public async Task FlushAsync_PendingLines_CompletesOnceTheyAreWritten()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent));
        using var client = Client(handler);
        await using var writer = new InfluxBatchingWriter(client, new InfluxBatchingOptions { BatchSize = 100, FlushInterval = TimeSpan.FromHours(1) }, _time);
        await writer.EnqueueAsync("m v=1i 1");

        await writer.FlushAsync();

        Assert.Equal(["m v=1i 1"], Assert.Single(handler.Requests).Lines);
        Assert.Equal(1, client.Counters.Snapshot().PointsWritten);
    }

    [Fact]
    public async Task DisposeAsync_QueuedLines_WrittenBeforeItReturns()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.NoContent));
        using var client = Client(handler);
        var writer = new InfluxBatchingWriter(client, new InfluxBatchingOptions { BatchSize = 100, FlushInterval = TimeSpan.FromHours(1) }, _time);
        for (int i = 0; i < 10; i++)
            Assert.True(writer.TryEnqueue($"m v={i}i {i}"));

        await writer.DisposeAsync();

        Assert.Equal(10, handler.Requests.Sum(r => r.Lines.Length));
    }

    [Fact]
    public async Task Batch_FailsEveryAttempt_RetriedAfterBackoffThenDeadLettered()
    {
        var deadLetters = new InMemoryDeadLetterSink();
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(HttpStatusCode.ServiceUnavailable)) { Time = _time };
        using var client = Client(handler);
        var options = new InfluxBatchingOptions { BatchSize = 2, FlushInterval = TimeSpan.FromHours(1), MaxBatchAttempts = 3, FailureBackoff = TimeSpan.FromSeconds(5) };
        await using var writer = new InfluxBatchingWriter(client, options, _time, deadLetters);
        await writer.EnqueueAsync("m v=1i 1");
        await writer.EnqueueAsync("m v=2i 2");

        var flush = writer.FlushAsync();
        await _time.RunAsync(flush.ContinueWith(_ => 0, TaskScheduler.Default), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));

        var requests = handler.Requests;
        Assert.Equal(3, requests.Count);
        // The writer's loop runs beside the time steps, so a step may come before its back-off starts: at least, not exactly.
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(5), $"first back-off {requests[1].At - requests[0].At}");
        Assert.True(requests[2].At - requests[1].At >= TimeSpan.FromSeconds(10), $"second back-off {requests[2].At - requests[1].At}");
        Assert.Equal(["m v=1i 1", "m v=2i 2"], deadLetters.Letters.Select(l => l.Line));
        Assert.Equal(1, writer.FailedBatches);
        Assert.Equal(2, client.Counters.Snapshot().DeadLetteredLines);
    }

    [Fact]
    public async Task Batch_DeadLetterSinkFailsToo_LinesCountedLostAndWriterGoesOn()
    {
        bool healthy = false;
        var handler = new ScriptedHandler(_ => ScriptedHandler.Answer(healthy ? HttpStatusCode.NoContent : HttpStatusCode.Unauthorized));
        using var client = Client(handler);
        var options = new InfluxBatchingOptions { BatchSize = 100, FlushInterval = TimeSpan.FromHours(1), MaxBatchAttempts = 1 };
        await using var writer = new InfluxBatchingWriter(client, options, _time, new FailingSink());
        await writer.EnqueueAsync("m v=1i 1");
        await writer.FlushAsync();
        healthy = true;

        await writer.EnqueueAsync("m v=2i 2");
        await writer.FlushAsync();

        Assert.Equal(1, writer.LostLines);
        Assert.Equal(["m v=2i 2"], handler.Requests[^1].Lines);
        Assert.Equal(1, client.Counters.Snapshot().PointsWritten);
    }

    private sealed class FailingSink : IDeadLetterSink
    {
        public ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken) =>
            throw new IOException("dead-letter disk full");
    }

    /// <summary>Lets the writer's loop run what it can without moving fake time.</summary>
    private static async Task Settle()
    {
        for (int i = 0; i < 10; i++)
            await Task.Delay(1);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 5000 && !condition(); i++)
            await Task.Delay(1);
        Assert.True(condition(), "the writer did not write");
    }
}
