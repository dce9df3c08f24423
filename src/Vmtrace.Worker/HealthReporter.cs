using System.Text;
using Microsoft.Extensions.Logging;
using Vmtrace.InfluxDb;

namespace Vmtrace.Worker;

/// <summary>
/// Every <see cref="WorkerOptions.HealthInterval"/>: the consumer lag is measured, the health line logged and the
/// worker's <c>pipeline_health</c> point queued, at its sampling time. While a write is held back the point waits in
/// the writer's backlog and reaches InfluxDB after the write that ends the outage.
/// </summary>
internal sealed class HealthReporter
{
    private readonly WorkerCounters _counters;
    private readonly BatchingPointWriter _points;
    private readonly AssignedPartitions _partitions;
    private readonly IEventsConsumer _consumer;
    private readonly WorkerOutages _outages;
    private readonly InfluxWriteCounters? _influx;
    private readonly string _instance;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StringBuilder _text = new();
    private readonly LineProtocolWriter _lines;
    private long _lastReport;

    public HealthReporter(WorkerCounters counters, BatchingPointWriter points, AssignedPartitions partitions, IEventsConsumer consumer,
        WorkerOutages outages, InfluxWriteCounters? influx, string instance, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _counters = counters;
        _points = points;
        _partitions = partitions;
        _consumer = consumer;
        _outages = outages;
        _influx = influx;
        _instance = instance;
        _interval = interval;
        _time = time;
        _logger = logger;
        _lines = new LineProtocolWriter(_text);
        _lastReport = time.GetTimestamp();
    }

    /// <param name="writeHeld">A write is held back: the point goes to the backlog instead of the pending points.</param>
    public void ReportIfDue(bool writeHeld = false)
    {
        if (_time.GetElapsedTime(_lastReport) < _interval)
            return;
        _lastReport = _time.GetTimestamp();
        string point = Sample();
        if (writeHeld)
            _points.AddWhileHeld(point);
        else
            _points.Pending.Add(point);
    }

    private string Sample()
    {
        long lag = 0;
        foreach (var p in _partitions.All)
        {
            long high = _consumer.HighWatermark(p.Partition);
            if (high >= 0)
                lag += Math.Max(0, high - p.NextOffset);
        }
        var c = _counters;
        c.ConsumerLag = lag;
        var influx = _influx?.Snapshot();
        WorkerLog.Health(_logger, c.RecordsIn, c.EventsIn, c.WindowsClosed, c.PointsWritten, c.DeadLettered, c.Checkpoints, lag,
            c.WatermarkLagNs / 1_000_000, c.MeanWriteLatency.TotalMilliseconds, c.WriteFailures);
        _text.Clear();
        _lines.Begin("pipeline_health").Tag("component", "worker").NameTag("instance", _instance)
            .Field("records_in", c.RecordsIn).Field("events_in", c.EventsIn).Field("windows_written", c.WindowsClosed)
            .Field("points_written", c.PointsWritten).Field("dead_lettered", c.DeadLettered)
            .Field("dead_letters_dropped", c.DeadLettersDropped).Field("consume_errors", c.ConsumeErrors)
            .Field("checkpoints", c.Checkpoints).Field("checkpoint_bytes", c.CheckpointBytes)
            .Field("consumer_lag", lag).Field("watermark_lag_ns", c.WatermarkLagNs)
            .Field("kafka_down", _outages.Kafka.Outage.IsDown ? 1 : 0).Field("kafka_outages", _outages.Kafka.Outage.Outages)
            .Field("influx_down", _outages.Influx.Outage.IsDown ? 1 : 0).Field("influx_outages", _outages.Influx.Outage.Outages)
            .Field("write_stalls", _outages.WriteStalls)
            .Field("write_latency_ms", c.MeanWriteLatency.TotalMilliseconds).Field("write_failures", c.WriteFailures)
            .Field("influx_retries", influx?.Retries ?? 0).Field("influx_dead_lettered", influx?.DeadLetteredLines ?? 0).Field("agent_skipped_events", c.TracerSkippedEvents)
            .Field("sessions_cut_short", c.SessionsCutShort)
            .Field("points_rejected", c.PointsRejected).Field("dropped_by_retention", c.DroppedByRetention)
            .Field("health_backlog_dropped", c.HealthBacklogDropped)
            .End(_time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000);
        return _text.ToString().TrimEnd('\n');
    }
}
