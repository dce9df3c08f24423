using System.Globalization;

namespace Vmtrace.Fleet;

/// <summary>What a fleet simulation found: whether every host's points equal analyze's, and the figures measured.</summary>
public sealed class FleetReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One worker process: memory, CPU, what it took in (its last pipeline_health) and its largest lag.</summary>
    public sealed record WorkerFigures(string Instance, long PeakRssBytes, long LastRssBytes, TimeSpan Cpu, bool Killed, int RestoredPartitions,
        long EventsIn, long PointsWritten, long MaxLag);

    public int Hosts { get; init; }

    public int Traces { get; init; }

    public int Partitions { get; init; }

    /// <summary>Events the hosts' agents sent (all of every trace).</summary>
    public long Events { get; init; }

    /// <summary>vmtrace_* points in InfluxDB at the end (equal to analyze's of every host when <see cref="Mismatches"/> is empty).</summary>
    public long Points { get; init; }

    /// <summary>Hosts that went silent and came back.</summary>
    public int SilentHosts { get; init; }

    /// <summary>From the first host's start until every replay was acknowledged by Kafka.</summary>
    public TimeSpan ReplaySpan { get; init; }

    /// <summary>From the first host's start until InfluxDB held every host's points (polled).</summary>
    public TimeSpan Duration { get; init; }

    public TimeSpan KilledAt { get; init; }

    public TimeSpan JoinedAt { get; init; }

    /// <summary>Events the killed worker had taken in by its last health report before the kill.</summary>
    public long VictimEventsBeforeKill { get; init; }

    /// <summary>Hosts whose points differ from analyze's, with the difference; empty when the run is exact.</summary>
    public IReadOnlyList<string> Mismatches { get; init; } = [];

    public IReadOnlyList<WorkerFigures> Workers { get; init; } = [];

    public double PeakEventsPerSecond { get; init; }

    public double PeakPointsPerSecond { get; init; }

    /// <summary>The largest consumer lag (records behind, summed over the workers) in any second.</summary>
    public long MaxConsumerLag { get; init; }

    /// <summary>Summed consumer lag per second of the run.</summary>
    public IReadOnlyList<(double Seconds, long Lag)> LagSeries { get; init; } = [];

    public long SeriesCardinality { get; init; }

    public long VmtraceSeriesCardinality { get; init; }

    /// <summary>CPU time of this process (every host's agent, their Kafka producers, the polling of InfluxDB) during the run.</summary>
    public TimeSpan AgentsCpu { get; init; }

    /// <summary>This process's resident memory at the end.</summary>
    public long AgentsRssBytes { get; init; }

    public string Database { get; init; } = "";

    public DateTime Started { get; init; }

    public double EventsPerSecond => Events / Duration.TotalSeconds;

    public double PointsPerSecond => Points / Duration.TotalSeconds;

    public void Print(TextWriter o)
    {
        o.WriteLine(string.Create(Inv, $"fleet: {Hosts} hosts ({Traces} traces), {Partitions} partitions, {Workers.Count} workers (one killed at {KilledAt.TotalSeconds:F1} s, one joined at {JoinedAt.TotalSeconds:F1} s), {SilentHosts} hosts silent and back"));
        o.WriteLine(Mismatches.Count == 0
            ? $"exact: every host's {Points:N0} points in InfluxDB equal vmtrace analyze's"
            : $"NOT EXACT: {Mismatches.Count} of {Hosts} hosts differ from vmtrace analyze");
        foreach (var m in Mismatches.Take(10))
            o.WriteLine("  " + m);
        o.WriteLine(string.Create(Inv, $"events {Events:N0}, points {Points:N0}; replays over at {ReplaySpan.TotalSeconds:F1} s, InfluxDB complete at {Duration.TotalSeconds:F1} s"));
        o.WriteLine(string.Create(Inv, $"events/s {EventsPerSecond:N0} (whole run), peak {PeakEventsPerSecond:N0} (workers, 1 s); points/s {PointsPerSecond:N0} (whole run), peak {PeakPointsPerSecond:N0}"));
        o.WriteLine(string.Create(Inv, $"consumer lag (records, all workers): max {MaxConsumerLag:N0}, at the end {LagSeries.LastOrDefault().Lag:N0}"));
        o.WriteLine(string.Create(Inv, $"series cardinality: {SeriesCardinality:N0} ({VmtraceSeriesCardinality:N0} vmtrace_*, {(double)VmtraceSeriesCardinality / Hosts:F0} per host)"));
        o.WriteLine($"  {"worker",-10} {"peak RSS",9} {"last RSS",9} {"CPU s",7} {"events in",12} {"points",10} {"max lag",8} {"restored",8}  fate");
        foreach (var w in Workers)
        {
            o.WriteLine(string.Create(Inv, $"  {w.Instance,-10} {w.PeakRssBytes / 1048576.0,6:F0} MiB {w.LastRssBytes / 1048576.0,5:F0} MiB {w.Cpu.TotalSeconds,7:F1} {w.EventsIn,12:N0} {w.PointsWritten,10:N0} {w.MaxLag,8:N0} {w.RestoredPartitions,8}  {(w.Killed ? "SIGKILLed" : "ran to the end")}"));
        }
        double cpu = Workers.Sum(w => w.Cpu.TotalSeconds);
        o.WriteLine(string.Create(Inv, $"workers' CPU {cpu:F1} s in all: {Events / cpu:N0} events per worker CPU second (events taken in again after the kill included in the CPU)"));
        o.WriteLine(string.Create(Inv, $"agents (this process: replays, producers, InfluxDB polling): CPU {AgentsCpu.TotalSeconds:F1} s, {Events / AgentsCpu.TotalSeconds:N0} events per CPU second, RSS {AgentsRssBytes / 1048576.0:F0} MiB at the end"));
        o.WriteLine("consumer lag per second (all workers): " + string.Join(' ', LagSeries.Select(x => x.Lag.ToString(Inv))));
    }
}
