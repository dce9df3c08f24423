namespace Vmtrace.Worker;

/// <summary>Settings of <c>vmtrace worker</c> (section <c>Worker</c>; env <c>VMTRACE__WORKER__…</c>).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Kafka consumer group: workers of one group share the events topic's partitions.</summary>
    public string GroupId { get; set; } = "vmtrace-worker";

    /// <summary>Event-time window length (must match what the dashboards and <c>vmtrace analyze --window</c> use).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Analyse event batches whose timestamps are raw TSC cycles (from an agent told to send them,
    /// <c>Agent:SendRawCycles</c>): their <c>*_ns</c> fields then hold cycles. Off: such batches are dead-lettered.
    /// </summary>
    public bool AcceptRawCycles { get; set; }

    /// <summary>Interferers kept per VM and window.</summary>
    public int TopInterferers { get; set; } = 5;

    /// <summary>
    /// A host that sends nothing at all (no event, heartbeat or inventory) for this long (wall time) is taken as gone: its
    /// open window is closed at its last event or watermark, as at a session end. A quiet but running agent sends
    /// heartbeats, so this only ends hosts whose agent stopped without ending its session.
    /// </summary>
    public TimeSpan HostIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often each partition's analysis state is checkpointed (and its offset stored). After a crash at most this much is recomputed.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Closed windows are written to InfluxDB at least this often (and whenever <see cref="MaxPendingLines"/> is reached).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Points held before a write is forced; also bounds memory while InfluxDB is down (the worker stops consuming).</summary>
    public int MaxPendingLines { get; set; } = 20_000;

    /// <summary>Wait between write attempts while InfluxDB is unreachable (the partitions are paused meanwhile).</summary>
    public TimeSpan OutageRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The wait between write attempts grows from <see cref="OutageRetryDelay"/> up to this (with jitter) while InfluxDB stays down.</summary>
    public TimeSpan OutageMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An InfluxDB write with no answer for this long is reported as an outage (a server that accepts the connection and never answers); the write goes on waiting.</summary>
    public TimeSpan WriteStallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>While Kafka or InfluxDB is down, a summary line (duration, failures, what is held back) this often; the outage's start and end are one line each.</summary>
    public TimeSpan OutageSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often pipeline_health is logged and written.</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The worker's name in pipeline_health (default: machine name and process id).</summary>
    public string? InstanceName { get; set; }

    /// <summary>Directory of the durable dead-letter file (<c>influx-rejected.jsonl</c>): points InfluxDB rejected, with its reason.</summary>
    public string DeadLetterDirectory { get; set; } = "deadletter";

    /// <summary>The dead-letter file is rotated at this size (MiB); the current and the previous file are kept.</summary>
    public int DeadLetterMaxMiB { get; set; } = 64;

    /// <summary>
    /// Dead letters (records the worker cannot use) waiting for the dead-letter topic's acknowledgement at most; past it a
    /// new one waits up to 30 s for a delivery, then is dropped and counted (<c>dead_letters_dropped</c>).
    /// </summary>
    public int MaxUndeliveredDeadLetters { get; set; } = 10_000;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(GroupId))
            yield return "Worker:GroupId is empty";
        if (Window <= TimeSpan.Zero || Window.Ticks % TimeSpan.TicksPerMillisecond != 0)
            yield return $"Worker:Window must be a positive whole number of milliseconds, not {Window}";
        if (TopInterferers < 1)
            yield return "Worker:TopInterferers must be at least 1";
        if (CheckpointInterval <= TimeSpan.Zero)
            yield return $"Worker:CheckpointInterval must be positive, not {CheckpointInterval}";
        if (FlushInterval <= TimeSpan.Zero)
            yield return $"Worker:FlushInterval must be positive, not {FlushInterval}";
        if (MaxPendingLines < 1)
            yield return "Worker:MaxPendingLines must be at least 1";
        if (OutageRetryDelay <= TimeSpan.Zero)
            yield return $"Worker:OutageRetryDelay must be positive, not {OutageRetryDelay}";
        if (OutageMaxRetryDelay < OutageRetryDelay)
            yield return $"Worker:OutageMaxRetryDelay ({OutageMaxRetryDelay}) must be at least Worker:OutageRetryDelay ({OutageRetryDelay})";
        if (WriteStallTimeout <= TimeSpan.Zero)
            yield return $"Worker:WriteStallTimeout must be positive, not {WriteStallTimeout}";
        if (OutageSummaryInterval <= TimeSpan.Zero)
            yield return $"Worker:OutageSummaryInterval must be positive, not {OutageSummaryInterval}";
        if (HostIdleTimeout <= TimeSpan.Zero)
            yield return $"Worker:HostIdleTimeout must be positive, not {HostIdleTimeout}";
        if (HealthInterval <= TimeSpan.Zero)
            yield return $"Worker:HealthInterval must be positive, not {HealthInterval}";
        if (MaxUndeliveredDeadLetters < 1)
            yield return $"Worker:MaxUndeliveredDeadLetters must be at least 1, not {MaxUndeliveredDeadLetters}";
        if (string.IsNullOrWhiteSpace(DeadLetterDirectory))
            yield return "Worker:DeadLetterDirectory is empty";
        if (DeadLetterMaxMiB < 1)
            yield return $"Worker:DeadLetterMaxMiB must be at least 1, not {DeadLetterMaxMiB}";
    }
}
