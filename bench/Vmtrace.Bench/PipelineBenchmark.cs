using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vmtrace.Agent;
using Vmtrace.Kafka;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Bench;

/// <summary>
/// End to end on this machine: agent replay (as fast as possible) → Kafka (librdkafka mock cluster over TCP, or
/// KAFKA_BOOTSTRAP_SERVERS) → worker → a real influxd. Prints events/s from the agent's first read until every
/// window point is acknowledged by InfluxDB, bytes/event of the records on the wire (before Kafka's zstd), and
/// the tail: time from the agent's last record to the last point stored.
/// </summary>
internal static class PipelineBenchmark
{
    public static int Run(string traces, TextWriter o)
    {
        var cases = new (string Host, string[] Inputs)[]
        {
            ("s3", [Path.Combine(traces, "tcg-qemu/s3-disk-vs-cpu/trace.dat.xz"), Path.Combine(traces, "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz"), Path.Combine(traces, "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log")]),
            ("hip24-2vms", [Path.Combine(traces, "hip24-kvm-host-2vms-46s/host.trace.dat")]),
        };
        using var influx = new InfluxServer();
        o.WriteLine("pipeline (agent → Kafka mock over TCP → worker → influxd), replay as fast as possible");
        o.WriteLine("trace        events   seconds  events/s  bytes/event  tail_s  points");
        int n = 0;
        foreach (var (host, inputs) in cases)
        {
            using var mock = new MockKafkaCluster();
            var kafka = new KafkaOptions { BootstrapServers = mock.BootstrapServers };
            mock.CreateVmtraceTopics(3, kafka);
            string db = "bench" + (++n).ToString(CultureInfo.InvariantCulture);
            using (var http = new HttpClient())
                http.PostAsync($"{influx.Url}/query?q={Uri.EscapeDataString("CREATE DATABASE " + db)}", null).GetAwaiter().GetResult().EnsureSuccessStatusCode();
            var settings = new Dictionary<string, string?>
            {
                ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
                ["Worker:GroupId"] = "bench",
                ["Influx:Url"] = influx.Url,
                ["Influx:Database"] = db,
                ["Influx:RetentionPolicy"] = "",
                ["Agent:HostId"] = host,
                ["Agent:StopWhenDone"] = "false",
            };
            for (int i = 0; i < inputs.Length; i++)
                settings[$"Agent:Inputs:{i}"] = inputs[i];
            using var worker = Build(settings, (s, c) => s.AddVmtraceWorker(c));
            using var agent = Build(settings, (s, c) => s.AddVmtraceAgent(c));
            worker.StartAsync().GetAwaiter().GetResult();
            var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
            // The group join (a few seconds on the mock) is not part of the pipeline's speed.
            var joined = DateTime.UtcNow.AddMinutes(1);
            while (counters.AssignedPartitions < 3 && DateTime.UtcNow < joined)
                Thread.Sleep(10);
            var start = Stopwatch.GetTimestamp();
            agent.StartAsync().GetAwaiter().GetResult();
            var agentService = agent.Services.GetRequiredService<AgentService>();
            agentService.Completion.GetAwaiter().GetResult();
            var agentDone = Stopwatch.GetTimestamp();
            var limit = DateTime.UtcNow.AddMinutes(5);
            while (!(counters.SessionsEnded == 1 && counters.PendingPoints == 0) && DateTime.UtcNow < limit)
                Thread.Sleep(5);
            var end = Stopwatch.GetTimestamp();
            agent.StopAsync().GetAwaiter().GetResult();
            worker.StopAsync().GetAwaiter().GetResult();
            var a = agentService.Counters;
            double seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{host,-11} {a.EventsSent,8} {seconds,8:F2} {a.EventsSent / seconds,9:F0} {(double)a.BatchBytes / Math.Max(1, a.EventsSent),12:F2} {Stopwatch.GetElapsedTime(agentDone, end).TotalSeconds,7:F2} {counters.PointsQueued,7}"));
        }
        return 0;
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> add)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        add(builder.Services, builder.Configuration);
        return builder.Build();
    }
}
