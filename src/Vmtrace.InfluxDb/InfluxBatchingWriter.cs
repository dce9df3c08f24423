using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vmtrace.InfluxDb;

/// <summary>
/// Queues lines in a bounded channel and writes them in batches by size or time, one batch at a time (after
/// serilog's BatchingSink). A failed batch is retried after a back-off, then dead-lettered and counted: it is
/// never dropped silently. Time comes from the injected <see cref="TimeProvider"/>, so tests control it.
/// <see cref="DisposeAsync"/> writes what is queued before it returns.
/// </summary>
public sealed partial class InfluxBatchingWriter : IAsyncDisposable
{
    private readonly InfluxClient _client;
    private readonly InfluxBatchingOptions _options;
    private readonly TimeProvider _time;
    private readonly IDeadLetterSink _deadLetters;
    private readonly ILogger _logger;
    private readonly Channel<Entry> _queue;
    private readonly Task _loop;
    private long _failedBatches;
    private long _lostLines;

    public InfluxBatchingWriter(InfluxClient client, InfluxBatchingOptions options, TimeProvider? time = null,
        IDeadLetterSink? deadLetters = null, ILogger<InfluxBatchingWriter>? logger = null)
    {
        if (options.BatchSize < 1 || options.QueueCapacity < 1 || options.MaxBatchAttempts < 1 || options.FlushInterval <= TimeSpan.Zero)
            throw new ArgumentException("batch size, queue capacity and attempts must be at least 1 and the flush interval positive", nameof(options));
        _client = client;
        _options = options;
        _time = time ?? TimeProvider.System;
        _deadLetters = deadLetters ?? new InMemoryDeadLetterSink();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Batches that failed every attempt and were dead-lettered.</summary>
    public long FailedBatches => Interlocked.Read(ref _failedBatches);

    /// <summary>Lines neither written nor dead-lettered, because the dead-letter sink failed too.</summary>
    public long LostLines => Interlocked.Read(ref _lostLines);

    /// <summary>Queues one line; waits while the queue is full.</summary>
    public ValueTask EnqueueAsync(string line, CancellationToken cancellationToken = default) =>
        _queue.Writer.WriteAsync(new Entry(line, null), cancellationToken);

    /// <summary>Queues one line if there is room.</summary>
    public bool TryEnqueue(string line) => _queue.Writer.TryWrite(new Entry(line, null));

    /// <summary>Completes when every line queued before it has been written (or dead-lettered).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Entry(null, done), cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<string>(_options.BatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long firstAt = _time.GetTimestamp();
            TaskCompletionSource? flush = null;
            while (batch.Count < _options.BatchSize && flush is null)
            {
                if (reader.TryRead(out var entry))
                {
                    if (entry.Line is not null)
                        batch.Add(entry.Line);
                    else
                        flush = entry.Flush;
                    continue;
                }
                var left = _options.FlushInterval - _time.GetElapsedTime(firstAt);
                if (left <= TimeSpan.Zero || !await WaitForLineAsync(reader, left).ConfigureAwait(false))
                    break;
            }
            if (batch.Count > 0)
            {
                try
                {
                    await WriteBatchAsync(batch).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The dead-letter sink itself failed: the lines are gone, but the loop must go on and say so.
                    Interlocked.Add(ref _lostLines, batch.Count);
                    LogBatchLost(_logger, batch.Count, ex);
                }
            }
            batch = new List<string>(_options.BatchSize);
            flush?.TrySetResult();
        }
    }

    /// <summary>True when a line arrived, false when <paramref name="left"/> passed or the queue was completed.</summary>
    private async Task<bool> WaitForLineAsync(ChannelReader<Entry> reader, TimeSpan left)
    {
        using var timeout = new CancellationTokenSource(left, _time);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task WriteBatchAsync(List<string> batch)
    {
        var backoff = _options.FailureBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await _client.WriteAsync(batch).ConfigureAwait(false);
                return;
            }
            catch (InfluxException ex)
            {
                if (attempt >= _options.MaxBatchAttempts)
                {
                    LogBatchDropped(_logger, batch.Count, attempt, ex.Message);
                    Interlocked.Increment(ref _failedBatches);
                    string reason = $"write failed {attempt} times: {ex.Message}";
                    await _deadLetters.WriteAsync([.. batch.Select(l => new DeadLetter(l, reason))], CancellationToken.None).ConfigureAwait(false);
                    _client.Counters.DeadLettered(batch.Count);
                    return;
                }
                LogBatchRetry(_logger, batch.Count, attempt, backoff, ex.Message);
                await Task.Delay(backoff, _time).ConfigureAwait(false);
                backoff *= 2;
            }
        }
    }

    /// <summary>Stops taking lines, writes what is queued, and waits for the last batch.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDB batch of {Lines} lines failed (attempt {Attempt}), trying again in {Backoff}: {Error}")]
    private static partial void LogBatchRetry(ILogger logger, int lines, int attempt, TimeSpan backoff, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "InfluxDB batch of {Lines} lines failed {Attempt} times and was dead-lettered: {Error}")]
    private static partial void LogBatchDropped(ILogger logger, int lines, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "InfluxDB batch of {Lines} lines lost: it failed and so did the dead-letter sink")]
    private static partial void LogBatchLost(ILogger logger, int lines, Exception error);

    private readonly record struct Entry(string? Line, TaskCompletionSource? Flush);
}
