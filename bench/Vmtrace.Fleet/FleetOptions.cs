namespace Vmtrace.Fleet;

/// <summary>One recorded trace the fleet's hosts replay: a name (the placeholder host of its <c>analyze</c>) and its inputs.</summary>
public sealed record FleetTrace(string Name, IReadOnlyList<string> Inputs);

/// <summary>What a fleet simulation runs: how many hosts replaying which traces, how they are spread, the workers and their fate.</summary>
public sealed class FleetOptions
{
    /// <summary>Simulated hosts; host i replays <see cref="Traces"/>[i mod count] as <c>fleet-NNNN</c>.</summary>
    public int Hosts { get; set; } = 50;

    public IReadOnlyList<FleetTrace> Traces { get; set; } = [];

    /// <summary>Partitions of the events topic (and of the state topic, which needs the same count).</summary>
    public int Partitions { get; set; } = 24;

    /// <summary>Workers started at the beginning (one of them is killed, one more joins).</summary>
    public int Workers { get; set; } = 3;

    /// <summary>Replay speed of a host (1 = recorded speed); each host's is jittered by ±<see cref="SpeedJitter"/>. 0 = as fast as possible.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>Relative jitter of each host's speed (0.2 = between 0.8 and 1.2 times <see cref="Speed"/>).</summary>
    public double SpeedJitter { get; set; } = 0.2;

    /// <summary>Hosts start at random moments within this span of wall time.</summary>
    public TimeSpan StartSpread { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Each host's events land shifted to now minus a random whole number of seconds below this (distinct positions in time).</summary>
    public int MaxShiftBackSeconds { get; set; } = 3600;

    /// <summary>Hosts that go silent (no event, no heartbeat) for <see cref="Silence"/> part-way through, then come back.</summary>
    public int SilentHosts { get; set; } = 3;

    /// <summary>How long a silent host says nothing; below the workers' <c>HostIdleTimeout</c>, so they keep its analysis.</summary>
    public TimeSpan Silence { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>When a worker is SIGKILLed and when a new one joins, as fractions of the planned replay span.</summary>
    public double KillAt { get; set; } = 0.35;

    public double JoinAt { get; set; } = 0.6;

    /// <summary>Hosts sharing one Kafka producer (one librdkafka client per this many hosts, as a rack's relay would).</summary>
    public int HostsPerProducer { get; set; } = 64;

    /// <summary>Longest wait, once every host's replay is over, for InfluxDB to hold every host's points.</summary>
    public TimeSpan SettleTimeout { get; set; } = TimeSpan.FromMinutes(3);

    public int Seed { get; set; } = 1;

    /// <summary>A real broker (host:port list); null: a librdkafka mock cluster in this process.</summary>
    public string? KafkaBootstrapServers { get; set; }

    /// <summary>Extra librdkafka properties (security, …) for the driver's clients and the workers.</summary>
    public Dictionary<string, string> KafkaProperties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Use the broker's vmtrace topics as they are (their default names, e.g. <c>vmtrace dev-kafka</c>'s, which takes no
    /// CreateTopics) instead of creating topics for the run; they must be empty. <see cref="Partitions"/> becomes theirs.
    /// </summary>
    public bool ExistingTopics { get; set; }

    /// <summary>Replication of the topics created on a real broker (-1: the broker's default).</summary>
    public short Replication { get; set; } = -1;

    /// <summary>An InfluxDB 1.x to write to; null: a temporary influxd of its own.</summary>
    public string? InfluxUrl { get; set; }

    /// <summary>How often workers report pipeline_health (consumer lag, events in, points written).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<string> Problems()
    {
        if (Hosts < 1)
            yield return "hosts must be at least 1";
        if (Traces.Count == 0)
            yield return "no trace to replay";
        if (Partitions < 1)
            yield return "partitions must be at least 1";
        if (Workers < 2)
            yield return "workers must be at least 2 (one is killed)";
        if (SilentHosts > Hosts)
            yield return "more silent hosts than hosts";
        if (KillAt is <= 0 or >= 1 || JoinAt is <= 0 or >= 1)
            yield return "kill-at and join-at are fractions of the replay span, between 0 and 1";
        if (Speed < 0)
            yield return "speed must be 0 (as fast as possible) or positive";
    }
}
