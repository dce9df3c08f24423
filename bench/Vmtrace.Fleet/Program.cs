using System.Globalization;
using Vmtrace.Fleet;
using Vmtrace.TestSupport;

// Vmtrace.Fleet [--hosts N] [--partitions N] [--workers N] [--speed X] [--spread S] [--silent N] [--silence S]
//               [--kill-at F] [--join-at F] [--seed N] [--settle S] [--per-producer N] [--trace NAME=PATH[,PATH…]]…
//               [--influx URL] [--existing-topics] [--replication N] [--kafka-property K=V]…
// Kafka: KAFKA_BOOTSTRAP_SERVERS names a real broker; without it a librdkafka mock cluster runs in this process.
var options = new FleetOptions
{
    Hosts = 1000,
    Partitions = 48,
    StartSpread = TimeSpan.FromSeconds(420),
    KafkaBootstrapServers = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS"),
    SilentHosts = 10,
    SettleTimeout = TimeSpan.FromMinutes(10),
};
var traces = new List<FleetTrace>();
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    double Number() => double.Parse(Value(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--hosts": options.Hosts = (int)Number(); break;
        case "--partitions": options.Partitions = (int)Number(); break;
        case "--workers": options.Workers = (int)Number(); break;
        case "--speed": options.Speed = Number(); break;
        case "--spread": options.StartSpread = TimeSpan.FromSeconds(Number()); break;
        case "--silent": options.SilentHosts = (int)Number(); break;
        case "--silence": options.Silence = TimeSpan.FromSeconds(Number()); break;
        case "--kill-at": options.KillAt = Number(); break;
        case "--join-at": options.JoinAt = Number(); break;
        case "--seed": options.Seed = (int)Number(); break;
        case "--settle": options.SettleTimeout = TimeSpan.FromSeconds(Number()); break;
        case "--per-producer": options.HostsPerProducer = (int)Number(); break;
        case "--influx": options.InfluxUrl = Value(); break;
        case "--existing-topics": options.ExistingTopics = true; break;
        case "--replication": options.Replication = (short)Number(); break;
        case "--kafka-property":
            string kv = Value();
            options.KafkaProperties[kv[..kv.IndexOf('=', StringComparison.Ordinal)]] = kv[(kv.IndexOf('=', StringComparison.Ordinal) + 1)..];
            break;
        case "--trace":
            string t = Value();
            traces.Add(new FleetTrace(t[..t.IndexOf('=', StringComparison.Ordinal)], t[(t.IndexOf('=', StringComparison.Ordinal) + 1)..].Split(',')));
            break;
        default:
            Console.Error.WriteLine($"unknown option '{args[i]}' (see docs/fleet.md)");
            return 2;
    }
}
options.Traces = traces.Count > 0 ? traces : FleetTraces.Default(Corpus.RepoRoot);
Console.WriteLine($"fleet simulation {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
var report = await new FleetSimulation(options, Console.Out).RunAsync();
report.Print(Console.Out);
Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg")[..14]}");
return report.Mismatches.Count == 0 ? 0 : 1;
