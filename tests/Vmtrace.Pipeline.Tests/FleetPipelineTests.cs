using Vmtrace.Fleet;
using Vmtrace.TestSupport;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// The fleet simulation at CI size (bench/Vmtrace.Fleet, docs/fleet.md): 50 hosts replaying the plain trace-cmd samples
/// under their own ids, shifted in time, started at random moments within 40 s at jittered speeds, three of them silent
/// for 6 s part-way; 24 partitions; three <c>vmtrace worker</c> processes, one SIGKILLed once it holds state, one more
/// joining later. Every host's points in InfluxDB must equal <c>vmtrace analyze</c> of its trace.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed class FleetPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    [InfluxFact]
    public async Task FiftyHosts_OneWorkerKilledOneJoining_EveryHostHoldsExactlyItsAnalyzePoints()
    {
        int seed = Environment.TickCount;
        var options = new FleetOptions
        {
            Hosts = 50,
            Partitions = 24,
            Workers = 3,
            Traces = FleetTraces.Default(Corpus.RepoRoot),
            StartSpread = TimeSpan.FromSeconds(40),
            SilentHosts = 3,
            Silence = TimeSpan.FromSeconds(6),
            KillAt = 0.3,
            JoinAt = 0.55,
            Seed = seed,
            SettleTimeout = TimeSpan.FromMinutes(2),
            InfluxUrl = influx.Url,
            KafkaBootstrapServers = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS"),
        };
        var log = new StringWriter();
        log.WriteLine($"fleet test seed {seed}");
        var report = await new FleetSimulation(options, log).RunAsync();
        report.Print(log);
        Console.WriteLine(log);
        string context = log.ToString();

        Assert.True(report.Mismatches.Count == 0, context);
        Assert.Equal(50, report.Hosts);
        Assert.True(report.Points > 50 * 60, context); // the smallest trace gives 64 points per host
        Assert.Equal(3, report.SilentHosts);
        Assert.Equal(4, report.Workers.Count);
        var killed = Assert.Single(report.Workers, w => w.Killed);
        Assert.True(report.VictimEventsBeforeKill > 0, "the killed worker had taken nothing in: " + context);
        var joiner = report.Workers[^1];
        Assert.False(joiner.Killed);
        Assert.True(joiner.EventsIn > 0, "the joining worker took no events in: " + context);
        // Partitions the killed worker held (or that moved to the joiner) were resumed from their checkpoints.
        Assert.True(report.Workers.Where(w => !w.Killed).Sum(w => w.RestoredPartitions) > 0, context);
        Assert.True(report.VmtraceSeriesCardinality >= 50, context);
        Assert.NotSame(killed, joiner);
    }
}

/// <summary>
/// The fleet test takes both cores of a CI machine for a minute; beside it, the timing-sensitive pipeline tests (kills
/// at moments, outages of seconds) would test the machine's load, not the product. It runs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetCollection
{
    public const string Name = "fleet, alone";
}
