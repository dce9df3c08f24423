using Vmtrace.InfluxDb;

namespace Vmtrace.Worker;

/// <summary>
/// The worker's one batching writer. Points wait in <see cref="Pending"/> and go to <see cref="IPointWriter"/> in one
/// write when the worker has caught up, every <see cref="WorkerOptions.FlushInterval"/>, or at
/// <see cref="WorkerOptions.MaxPendingLines"/>. While InfluxDB refuses, consumption is paused (nothing more is read,
/// so memory stays bounded) and the write is retried with back-off until it succeeds or the worker stops.
/// </summary>
internal sealed class BatchingPointWriter
{
    private readonly IPointWriter _writer;
    private readonly IEventsConsumer _consumer;
    private readonly WorkerOutages _outages;
    private readonly WorkerCounters _counters;
    private readonly WorkerOptions _options;
    private readonly TimeProvider _time;
    private readonly HealthBacklog _healthBacklog = new(capacity: 10_000);
    private long _lastFlush;
    private bool _paused;

    public BatchingPointWriter(IPointWriter writer, IEventsConsumer consumer, WorkerOutages outages, WorkerCounters counters, WorkerOptions options, TimeProvider time)
    {
        _writer = writer;
        _consumer = consumer;
        _outages = outages;
        _counters = counters;
        _options = options;
        _time = time;
        _lastFlush = time.GetTimestamp();
    }

    /// <summary>Points (one line each, no newline) waiting for the next write.</summary>
    public List<string> Pending { get; } = [];

    /// <summary>Runs while a write is held back (failing or stalled): the health report samples here.</summary>
    public Action WhileHeld { get; set; } = () => { };

    /// <summary>The batch is full, or its points have waited <see cref="WorkerOptions.FlushInterval"/>.</summary>
    public bool IsDue => Pending.Count >= _options.MaxPendingLines
        || (Pending.Count > 0 && _time.GetElapsedTime(_lastFlush) >= _options.FlushInterval);

    /// <summary>A health point sampled while a write is held: it is written after the write that ends the outage.</summary>
    public void AddWhileHeld(string point)
    {
        _healthBacklog.Add(point);
        _counters.HealthBacklogDropped = _healthBacklog.Dropped;
    }

    /// <summary>
    /// Writes the pending points. <paramref name="singleAttempt"/>: one try, which throws when it fails (shutdown and
    /// revocation: the partition is then left to its previous checkpoint); else retried while paused.
    /// </summary>
    public void Flush(CancellationToken stop, bool singleAttempt)
    {
        if (Pending.Count == 0)
            return;
        long failures = 0;
        while (true)
        {
            long started = _time.GetTimestamp();
            try
            {
                var write = _writer.WriteAsync(Pending, stop);
                _outages.WaitForWrite(write, HeldBack, WhileHeld);
                var result = write.GetAwaiter().GetResult();
                _counters.NoteWrite(_time.GetElapsedTime(started), result);
                Pending.Clear();
                _healthBacklog.MoveTo(Pending);
                _lastFlush = _time.GetTimestamp();
                if (_paused)
                {
                    _consumer.ResumeAll();
                    _paused = false;
                    _counters.ConsumptionPaused = false;
                }
                _outages.Influx.Succeeded();
                return;
            }
            catch (Exception ex) when (IsWriteFailure(ex))
            {
                failures++;
                _counters.WriteFailures++;
                if (singleAttempt)
                    throw;
                if (!_paused)
                {
                    _consumer.PauseAll();
                    _paused = true;
                    _counters.ConsumptionPaused = true;
                }
                _outages.Influx.Failed(ex.Message, HeldBack);
                WaitWhilePaused(stop, WorkerOutages.RetryDelay(failures, _options.OutageRetryDelay, _options.OutageMaxRetryDelay));
            }
        }
    }

    /// <summary>What a failed write throws: InfluxDB refusing or unreachable (after the client's own retries).</summary>
    public static bool IsWriteFailure(Exception ex) =>
        ex is InfluxException or HttpRequestException or TimeoutException or Polly.CircuitBreaker.BrokenCircuitException;

    public string HeldBack() => $"{Pending.Count} point(s) waiting, consumption paused at consumer lag {_counters.ConsumerLag}";

    /// <summary>Keeps the consumer alive in its group (paused partitions return nothing) for the retry delay.</summary>
    private void WaitWhilePaused(CancellationToken stop, TimeSpan delay)
    {
        long started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < delay)
        {
            stop.ThrowIfCancellationRequested();
            WhileHeld();
            var cr = _consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (cr is not null && !cr.IsPartitionEOF)
                _consumer.Seek(cr.TopicPartitionOffset); // fetched before the pause took effect: read it again later
        }
    }
}
