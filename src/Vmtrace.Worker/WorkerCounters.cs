using System.Collections.Concurrent;
using Vmtrace.Analysis;

namespace Vmtrace.Worker;

/// <summary>What the worker did, for pipeline_health and logs. Counters only grow; written from the consume loop, read by the health reporter.</summary>
public sealed class WorkerCounters
{
    private long _recordsIn, _eventsIn, _tracerSkipped, _inventories, _heartbeats, _windowsClosed, _pointsWritten, _deadLettered;
    private long _checkpoints, _checkpointBytes, _writeFailures, _sessionsEnded, _sessionsCutShort, _restoredPartitions;
    private long _pointsRejected, _droppedByRetention;
    private long _pointsQueued, _pendingPoints, _assigned, _agentHealthRecords, _paused;
    private long _hostsTimedOut;
    private long _deadLettersDropped, _deadLettersUndelivered, _consumeErrors, _consumerLag, _healthBacklogDropped;
    private readonly ConcurrentDictionary<string, AnalysisCounters> _analysisByHost = new(StringComparer.Ordinal);
    private long _maxEventTime = long.MinValue, _lastWindowEnd = long.MinValue, _writeLatencyTicks, _writes;

    public long RecordsIn { get => Interlocked.Read(ref _recordsIn); internal set => Interlocked.Exchange(ref _recordsIn, value); }
    public long EventsIn { get => Interlocked.Read(ref _eventsIn); internal set => Interlocked.Exchange(ref _eventsIn, value); }
    /// <summary>Events the agent's selection dropped, as reported in the batches.</summary>
    public long TracerSkippedEvents { get => Interlocked.Read(ref _tracerSkipped); internal set => Interlocked.Exchange(ref _tracerSkipped, value); }
    public long Inventories { get => Interlocked.Read(ref _inventories); internal set => Interlocked.Exchange(ref _inventories, value); }
    /// <summary>Agent health records turned into pipeline_health points (component=agent).</summary>
    public long AgentHealthRecords { get => Interlocked.Read(ref _agentHealthRecords); internal set => Interlocked.Exchange(ref _agentHealthRecords, value); }
    public long Heartbeats { get => Interlocked.Read(ref _heartbeats); internal set => Interlocked.Exchange(ref _heartbeats, value); }
    public long WindowsClosed { get => Interlocked.Read(ref _windowsClosed); internal set => Interlocked.Exchange(ref _windowsClosed, value); }
    public long PointsWritten { get => Interlocked.Read(ref _pointsWritten); internal set => Interlocked.Exchange(ref _pointsWritten, value); }
    /// <summary>Points InfluxDB rejected (partial write), kept in the dead-letter file; not counted as written.</summary>
    public long PointsRejected { get => Interlocked.Read(ref _pointsRejected); internal set => Interlocked.Exchange(ref _pointsRejected, value); }
    /// <summary>Points InfluxDB dropped for being older than the retention policy keeps; not counted as written.</summary>
    public long DroppedByRetention { get => Interlocked.Read(ref _droppedByRetention); internal set => Interlocked.Exchange(ref _droppedByRetention, value); }
    public long DeadLettered { get => Interlocked.Read(ref _deadLettered); internal set => Interlocked.Exchange(ref _deadLettered, value); }
    public long Checkpoints { get => Interlocked.Read(ref _checkpoints); internal set => Interlocked.Exchange(ref _checkpoints, value); }
    public long CheckpointBytes { get => Interlocked.Read(ref _checkpointBytes); internal set => Interlocked.Exchange(ref _checkpointBytes, value); }
    /// <summary>InfluxDB writes that failed for good (the worker paused and retried them).</summary>
    public long WriteFailures { get => Interlocked.Read(ref _writeFailures); internal set => Interlocked.Exchange(ref _writeFailures, value); }
    public long SessionsEnded { get => Interlocked.Read(ref _sessionsEnded); internal set => Interlocked.Exchange(ref _sessionsEnded, value); }
    /// <summary>Agent sessions replaced by a new one without an end marker (agent killed and restarted): their open window was dropped.</summary>
    public long SessionsCutShort { get => Interlocked.Read(ref _sessionsCutShort); internal set => Interlocked.Exchange(ref _sessionsCutShort, value); }
    public long RestoredPartitions { get => Interlocked.Read(ref _restoredPartitions); internal set => Interlocked.Exchange(ref _restoredPartitions, value); }
    /// <summary>Consumption is paused because InfluxDB does not take the pending points (nothing more is read meanwhile).</summary>
    public bool ConsumptionPaused { get => Interlocked.Read(ref _paused) != 0; internal set => Interlocked.Exchange(ref _paused, value ? 1 : 0); }
    /// <summary>Hosts ended because nothing of theirs arrived for Worker:HostIdleTimeout.</summary>
    public long HostsTimedOut { get => Interlocked.Read(ref _hostsTimedOut); internal set => Interlocked.Exchange(ref _hostsTimedOut, value); }
    public long WriteCount => Interlocked.Read(ref _writes);
    /// <summary>Dead letters dropped because the dead-letter topic did not take them in time (bound reached) or refused them; their records stay in the events topic.</summary>
    public long DeadLettersDropped { get => Interlocked.Read(ref _deadLettersDropped); internal set => Interlocked.Exchange(ref _deadLettersDropped, value); }
    /// <summary>Dead letters whose delivery to the dead-letter topic failed.</summary>
    public long DeadLettersUndelivered { get => Interlocked.Read(ref _deadLettersUndelivered); internal set => Interlocked.Exchange(ref _deadLettersUndelivered, value); }
    /// <summary>Records the consumer could not read (<c>ConsumeException</c>), each logged once.</summary>
    public long ConsumeErrors { get => Interlocked.Read(ref _consumeErrors); internal set => Interlocked.Exchange(ref _consumeErrors, value); }
    /// <summary>Records behind the high watermarks, summed over the assigned partitions, at the last health report.</summary>
    public long ConsumerLag { get => Interlocked.Read(ref _consumerLag); internal set => Interlocked.Exchange(ref _consumerLag, value); }
    /// <summary>Health points sampled during an InfluxDB outage and dropped because their backlog was full.</summary>
    public long HealthBacklogDropped { get => Interlocked.Read(ref _healthBacklogDropped); internal set => Interlocked.Exchange(ref _healthBacklogDropped, value); }
    /// <summary>Partitions of the events topic this worker owns now.</summary>
    public long AssignedPartitions { get => Interlocked.Read(ref _assigned); internal set => Interlocked.Exchange(ref _assigned, value); }
    /// <summary>Window points produced by the analyses (queued for InfluxDB).</summary>
    public long PointsQueued { get => Interlocked.Read(ref _pointsQueued); internal set => Interlocked.Exchange(ref _pointsQueued, value); }
    /// <summary>Points (windows and health) waiting for InfluxDB right now.</summary>
    public long PendingPoints { get => Interlocked.Read(ref _pendingPoints); internal set => Interlocked.Exchange(ref _pendingPoints, value); }
    public TimeSpan MeanWriteLatency => _writes == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Interlocked.Read(ref _writeLatencyTicks) / Math.Max(1, Interlocked.Read(ref _writes)));

    /// <summary>Event time of the newest event seen minus the end of the newest window closed (ns), 0 before both.</summary>
    public long WatermarkLagNs
    {
        get
        {
            long ev = Interlocked.Read(ref _maxEventTime), w = Interlocked.Read(ref _lastWindowEnd);
            return ev == long.MinValue || w == long.MinValue ? 0 : Math.Max(0, ev - w);
        }
    }

    /// <summary>
    /// Each host's analysis counters (its current or last agent session), as written to <c>pipeline_health</c>
    /// (component=analysis); read while the consume loop updates them.
    /// </summary>
    public IReadOnlyDictionary<string, AnalysisCounters> AnalysisByHost => _analysisByHost;

    internal void NoteAnalysis(string host, AnalysisCounters counters) => _analysisByHost[host] = counters;

    internal void NoteEventTime(long t)
    {
        if (t > Interlocked.Read(ref _maxEventTime))
            Interlocked.Exchange(ref _maxEventTime, t);
    }

    internal void NoteWatermark(long t) => NoteEventTime(t);

    internal void NoteWindowClosed(long end)
    {
        if (end > Interlocked.Read(ref _lastWindowEnd))
            Interlocked.Exchange(ref _lastWindowEnd, end);
    }

    internal void NoteWrite(TimeSpan latency, PointWriteResult result)
    {
        Interlocked.Add(ref _writeLatencyTicks, latency.Ticks);
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _pointsWritten, result.Stored);
        Interlocked.Add(ref _pointsRejected, result.Rejected);
        Interlocked.Add(ref _droppedByRetention, result.DroppedByRetention);
    }
}
