using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// <c>vmtrace worker</c>: consumes the events topic in a consumer group (cooperative-sticky), feeds each
/// host's analysis, writes closed windows to InfluxDB, and checkpoints each partition (state topic) only
/// after InfluxDB acknowledged every point the checkpointed records produced; the group offset is stored
/// after the checkpoint. A restart resumes each partition from its checkpoint, so results are exact.
/// </summary>
public sealed class WorkerService : BackgroundService
{
    private readonly KafkaOptions _kafka;
    private readonly WorkerOptions _options;
    private readonly IPointWriter _points;
    private readonly ILogger<WorkerService> _logger;
    private readonly RecordProcessor _processor;
    private readonly Dictionary<int, PartitionState> _partitions = [];
    private readonly List<string> _pending = [];
    private readonly string _instance;
    private IProducer<string, byte[]>? _producer;
    private IConsumer<string?, byte[]>? _consumer;
    private CheckpointStore? _store;
    private KafkaDeadLetters? _deadLetters;
    private readonly IdleHosts _idleHosts;
    private readonly WorkerOutages _outages;
    private readonly TimeProvider _time;
    private long _lastIdleSweep;
    private bool _paused;
    private long _lastFlushTicks;
    private long _lastHealthTicks;
    private readonly HealthBacklog _healthBacklog = new(capacity: 10_000);
    private long _consumerLag;

    public WorkerService(IOptions<KafkaOptions> kafka, IOptions<WorkerOptions> options, IPointWriter points, ILogger<WorkerService> logger,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(options);
        _kafka = kafka.Value;
        _options = options.Value;
        _points = points;
        _logger = logger;
        _processor = new RecordProcessor(_options);
        _time = time ?? TimeProvider.System;
        _idleHosts = new IdleHosts(_time, _options.HostIdleTimeout);
        _outages = new WorkerOutages(_time, _options, logger);
        _instance = _options.InstanceName ?? Environment.MachineName + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    }

    public WorkerCounters Counters => _processor.Counters;

    /// <summary>Kafka's and InfluxDB's state as this worker sees them.</summary>
    internal WorkerOutages Outages => _outages;

    /// <summary>Consumer lag summed over the assigned partitions at the last health report.</summary>
    public long ConsumerLag => Interlocked.Read(ref _consumerLag);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // ExecuteAsync already runs on a thread of its own: the blocking consume loop runs here.
        try
        {
            Run(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        return Task.CompletedTask;
    }

    private void Run(CancellationToken stop)
    {
        _producer = new ProducerBuilder<string, byte[]>(_kafka.Apply(new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            CompressionType = CompressionType.Zstd,
            MessageMaxBytes = 64 * 1024 * 1024,
            LingerMs = 5,
        })).SetErrorHandler((_, e) => OnKafkaError(e)).Build();
        _store = new CheckpointStore(_kafka, _options.GroupId, _producer);
        _deadLetters = new KafkaDeadLetters(_producer, _kafka.DeadLetterTopic, _processor.Counters, _logger);
        var config = _kafka.Apply(new ConsumerConfig
        {
            GroupId = _options.GroupId,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            // A fetch finding nothing waits this long at most; librdkafka's mock cluster does not answer early
            // when a record arrives meanwhile, so the default 500 ms would be added to every window's lag there.
            FetchWaitMaxMs = 50,
        });
        _consumer = new ConsumerBuilder<string?, byte[]>(config)
            .SetErrorHandler((_, e) => OnKafkaError(e))
            .SetPartitionsAssignedHandler((_, parts) => OnAssigned(parts))
            .SetPartitionsRevokedHandler((_, parts) => OnRevoked(parts))
            .SetPartitionsLostHandler((_, parts) => OnLost(parts))
            .Build();
        try
        {
            _consumer.Subscribe(_kafka.EventsTopic);
            _lastFlushTicks = _lastHealthTicks = Stopwatch.GetTimestamp();
            while (!stop.IsCancellationRequested)
            {
                // With points waiting, first look whether a record is already here: if none, the worker has caught
                // up, and the points go out now instead of after FlushInterval (window lag); while records keep
                // coming, writes stay batched.
                var cr = _consumer.Consume(_pending.Count > 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(100));
                if (cr is not null)
                    _outages.Kafka.Succeeded();
                if (cr is not null && !cr.IsPartitionEOF)
                    Handle(cr);
                else if (_pending.Count > 0)
                {
                    WritePending(stop, singleAttempt: false);
                    _lastFlushTicks = Stopwatch.GetTimestamp();
                }
                Housekeeping(stop);
                _processor.Counters.PendingPoints = _pending.Count;
                _processor.Counters.AssignedPartitions = _partitions.Count;
            }
            // Graceful stop: everything processed is written and checkpointed before leaving the group.
            WritePending(stop: CancellationToken.None, singleAttempt: true);
            foreach (var p in _partitions.Values.ToList())
                TryCheckpoint(p);
            _consumer.Close();
        }
        finally
        {
            _consumer.Dispose();
            _producer.Flush(TimeSpan.FromSeconds(10));
            _producer.Dispose();
        }
    }

    private void Handle(ConsumeResult<string?, byte[]> cr)
    {
        if (!_partitions.TryGetValue(cr.Partition.Value, out var state) || cr.Offset.Value < state.NextOffset)
            return; // not ours any more, or before the checkpoint (already in its state)
        bool sessionEnd = cr.Message.Headers?.TryGetLastBytes(KafkaHeaders.SessionEnd, out _) == true;
        var outcome = _processor.Process(state, cr.Message.Value, sessionEnd, _pending);
        _idleHosts.Seen(state.Partition, cr.Message.Key);
        if (!outcome.Used)
            _deadLetters!.Send(cr, outcome);
        state.NextOffset = cr.Offset.Value + 1;
    }

    private void Housekeeping(CancellationToken stop)
    {
        long now = Stopwatch.GetTimestamp();
        if (_pending.Count >= _options.MaxPendingLines || (_pending.Count > 0 && Stopwatch.GetElapsedTime(_lastFlushTicks, now) >= _options.FlushInterval))
        {
            WritePending(stop, singleAttempt: false);
            _lastFlushTicks = now;
        }
        foreach (var p in _partitions.Values)
        {
            if (p.NextOffset != p.CheckpointedOffset && Stopwatch.GetElapsedTime(p.LastCheckpointTicks, now) >= _options.CheckpointInterval)
            {
                WritePending(stop, singleAttempt: false);
                Checkpoint(p);
            }
        }
        _outages.ProbeKafka(_consumer!, _kafka.EventsTopic, () => $"{_pending.Count} point(s) waiting");
        if (_time.GetElapsedTime(_lastIdleSweep) >= TimeSpan.FromSeconds(1))
        {
            _lastIdleSweep = _time.GetTimestamp();
            foreach (var p in _partitions.Values)
            {
                foreach (var host in _idleHosts.Expired(p))
                {
                    WorkerLog.HostTimedOut(_logger, host.HostId, p.Partition, _options.HostIdleTimeout);
                    _processor.EndSilentHost(p, host, _pending);
                }
            }
        }
        if (Stopwatch.GetElapsedTime(_lastHealthTicks, now) >= _options.HealthInterval)
        {
            _lastHealthTicks = now;
            ReportHealth();
        }
    }

    /// <summary>
    /// Writes the pending points. While InfluxDB refuses, the partitions are paused (nothing more is read, so
    /// memory stays bounded) and the write is retried until it succeeds or the worker stops.
    /// </summary>
    private void WritePending(CancellationToken stop, bool singleAttempt)
    {
        if (_pending.Count == 0)
            return;
        long failures = 0;
        while (true)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                var write = _points.WriteAsync(_pending, stop);
                _outages.WaitForWrite(write, HeldBack, HealthWhileWriteHeld);
                var result = write.GetAwaiter().GetResult();
                _processor.Counters.NoteWrite(Stopwatch.GetElapsedTime(started), result);
                _pending.Clear();
                _healthBacklog.MoveTo(_pending); // sampled during the outage: written with the next flush
                if (_paused)
                {
                    _consumer!.Resume(_consumer.Assignment);
                    _paused = false;
                    _processor.Counters.ConsumptionPaused = false;
                }
                _outages.Influx.Succeeded();
                return;
            }
            catch (Exception ex) when (ex is InfluxException or HttpRequestException or TimeoutException or Polly.CircuitBreaker.BrokenCircuitException)
            {
                failures++;
                _processor.Counters.WriteFailures++;
                if (singleAttempt)
                    throw;
                if (!_paused)
                {
                    _consumer!.Pause(_consumer.Assignment);
                    _paused = true;
                    _processor.Counters.ConsumptionPaused = true;
                }
                _outages.Influx.Failed(ex.Message, HeldBack);
                WaitWhilePaused(stop, WorkerOutages.RetryDelay(failures, _options.OutageRetryDelay, _options.OutageMaxRetryDelay));
            }
        }
    }

    private string HeldBack() => $"{_pending.Count} point(s) waiting, consumption paused at consumer lag {ConsumerLag}";

    /// <summary>librdkafka reports every failed connection attempt: a fatal error is logged as such, the rest as an outage.</summary>
    private void OnKafkaError(Error e)
    {
        if (e.IsFatal)
            WorkerLog.KafkaError(_logger, e.Reason, e.IsFatal);
        else
            _outages.Kafka.Failed(e.Reason, () => $"{_pending.Count} point(s) waiting, consumer lag {ConsumerLag} at the last health report");
    }

    /// <summary>Keeps the consumer alive in its group (paused partitions return nothing) for the retry delay.</summary>
    private void WaitWhilePaused(CancellationToken stop, TimeSpan delay)
    {
        var until = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            stop.ThrowIfCancellationRequested();
            HealthWhileWriteHeld();
            var cr = _consumer!.Consume(TimeSpan.FromMilliseconds(100));
            if (cr is not null && !cr.IsPartitionEOF)
                _consumer.Seek(cr.TopicPartitionOffset); // fetched before the pause took effect: read it again later
        }
    }

    private void Checkpoint(PartitionState p)
    {
        // Dead letters of the checkpointed records must be in their topic before the checkpoint moves past them.
        _producer!.Flush(TimeSpan.FromSeconds(30));
        int bytes = _store!.Save(p);
        _consumer!.StoreOffset(new TopicPartitionOffset(_kafka.EventsTopic, p.Partition, p.NextOffset));
        p.CheckpointedOffset = p.NextOffset;
        p.LastCheckpointTicks = Stopwatch.GetTimestamp();
        _processor.Counters.Checkpoints++;
        _processor.Counters.CheckpointBytes += bytes;
        WorkerLog.Checkpointed(_logger, p.Partition, p.NextOffset, bytes);
    }

    private bool TryCheckpoint(PartitionState p)
    {
        if (p.NextOffset == p.CheckpointedOffset)
            return true;
        try
        {
            WritePending(CancellationToken.None, singleAttempt: true);
            Checkpoint(p);
            return true;
        }
        catch (Exception ex) when (ex is InfluxException or HttpRequestException or TimeoutException or KafkaException or Polly.CircuitBreaker.BrokenCircuitException)
        {
            // Not checkpointed: the next owner resumes from the previous checkpoint and recomputes the same points.
            WorkerLog.CheckpointFailed(_logger, p.Partition, ex.Message);
            return false;
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> parts)
    {
        var result = new List<TopicPartitionOffset>();
        foreach (var tp in parts)
        {
            PartitionState state;
            PartitionState? restored;
            try
            {
                restored = _store!.Load(tp.Partition.Value);
            }
            catch (CheckpointFormatException ex)
            {
                // A checkpoint this build cannot read: recompute from the earliest record still in the topic.
                WorkerLog.CheckpointFailed(_logger, tp.Partition.Value, "unreadable, starting over from the earliest offset: " + ex.Message);
                restored = null;
            }
            if (restored is not null)
            {
                state = restored;
                _processor.Counters.RestoredPartitions++;
                WorkerLog.Restored(_logger, tp.Partition.Value, state.NextOffset, state.Hosts.Count);
                result.Add(new TopicPartitionOffset(tp, state.NextOffset));
            }
            else
            {
                state = new PartitionState(tp.Partition.Value);
                WorkerLog.NoCheckpoint(_logger, tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, Offset.Beginning));
            }
            state.LastCheckpointTicks = Stopwatch.GetTimestamp();
            _partitions[tp.Partition.Value] = state;
        }
        return result;
    }

    private void OnRevoked(List<TopicPartitionOffset> parts)
    {
        foreach (var tp in parts)
        {
            if (!_partitions.Remove(tp.Partition.Value, out var p))
                continue;
            _idleHosts.Forget(p.Partition);
            bool ok = TryCheckpoint(p);
            WorkerLog.Revoked(_logger, p.Partition, p.NextOffset, ok);
        }
    }

    private void OnLost(List<TopicPartitionOffset> parts)
    {
        foreach (var tp in parts)
        {
            if (_partitions.Remove(tp.Partition.Value))
            {
                _idleHosts.Forget(tp.Partition.Value);
                WorkerLog.Lost(_logger, tp.Partition.Value);
            }
        }
    }

    /// <summary>
    /// While a write fails or stalls the health point is still sampled every HealthInterval (with the log line): it
    /// waits in the backlog, with its sampling time, and reaches InfluxDB after the write that ends the outage.
    /// </summary>
    private void HealthWhileWriteHeld()
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastHealthTicks, now) < _options.HealthInterval)
            return;
        _lastHealthTicks = now;
        ReportHealth(writeHeld: true);
    }

    private void ReportHealth(bool writeHeld = false)
    {
        long lag = 0;
        foreach (var p in _partitions.Values)
        {
            var marks = _consumer!.GetWatermarkOffsets(new TopicPartition(_kafka.EventsTopic, p.Partition));
            if (marks.High.Value >= 0)
                lag += Math.Max(0, marks.High.Value - p.NextOffset);
        }
        Interlocked.Exchange(ref _consumerLag, lag);
        var c = _processor.Counters;
        var influx = (_points as InfluxPointWriter)?.Client.Counters.Snapshot();
        WorkerLog.Health(_logger, c.RecordsIn, c.EventsIn, c.WindowsClosed, c.PointsWritten, c.DeadLettered, c.Checkpoints, lag,
            c.WatermarkLagNs / 1_000_000, c.MeanWriteLatency.TotalMilliseconds, c.WriteFailures);
        var sb = new StringBuilder();
        var w = new LineProtocolWriter(sb);
        w.Begin("pipeline_health").Tag("component", "worker").NameTag("instance", _instance)
            .Field("records_in", c.RecordsIn).Field("events_in", c.EventsIn).Field("windows_written", c.WindowsClosed)
            .Field("points_written", c.PointsWritten).Field("dead_lettered", c.DeadLettered)
            .Field("checkpoints", c.Checkpoints).Field("checkpoint_bytes", c.CheckpointBytes)
            .Field("consumer_lag", lag).Field("watermark_lag_ns", c.WatermarkLagNs)
            .Field("kafka_down", _outages.Kafka.Outage.IsDown ? 1 : 0).Field("kafka_outages", _outages.Kafka.Outage.Outages)
            .Field("influx_down", _outages.Influx.Outage.IsDown ? 1 : 0).Field("influx_outages", _outages.Influx.Outage.Outages)
            .Field("write_stalls", _outages.WriteStalls)
            .Field("write_latency_ms", c.MeanWriteLatency.TotalMilliseconds).Field("write_failures", c.WriteFailures)
            .Field("influx_retries", influx?.Retries ?? 0).Field("influx_dead_lettered", influx?.DeadLetteredLines ?? 0).Field("agent_skipped_events", c.TracerSkippedEvents)
            .Field("sessions_cut_short", c.SessionsCutShort)
            .Field("points_rejected", c.PointsRejected).Field("dropped_by_retention", c.DroppedByRetention)
            .Field("health_backlog_dropped", _healthBacklog.Dropped)
            .End(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
        string point = sb.ToString().TrimEnd('\n');
        if (writeHeld)
            _healthBacklog.Add(point);
        else
            _pending.Add(point);
    }
}
