using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Archives;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Bench;

/// <summary>
/// <c>pipeline</c>: agent → Kafka (librdkafka mock cluster over TCP) → worker → a real influxd, on this machine.
/// 1. Stage rates: each stage alone on one thread (<see cref="PipelineStages"/>).
/// 2. End to end, as fast as possible, from the trace files (compressed inputs are unpacked before timing, so
///    the agent decodes plain files as it would on a host): events/s from the agent's start until InfluxDB
///    acknowledged the last point, bytes/event on the wire, and when each side finished.
/// 3. Window lag under a steady stream: one trace looped from memory, paced at a fixed rate; for each 1 s window,
///    lag = wall time InfluxDB acknowledged the window's points − wall time the agent read its last event.
/// </summary>
internal static class PipelineBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string traces, double rate, double seconds, TextWriter o, bool lagOnly = false, string? lagCsv = null, int steadyRuns = 0, int steadyLoops = 10)
    {
        var cases = new (string Host, string[] Inputs)[]
        {
            ("s3", ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"]),
            ("hip24-2vms", ["hip24-kvm-host-2vms-46s/host.trace.dat"]),
        };
        o.WriteLine($"pipeline benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, {Load()}");
        using var influx = new InfluxServer();
        using var temp = new TempDirectory();
        int db = 0;
        var prepared = new List<(string Host, List<string> Inputs, string? Inventory)>();
        foreach (var (host, inputs) in cases)
        {
            var originals = inputs.Select(i => Path.Combine(traces, i)).ToList();
            // Unpacked once, before any timing: a host's agent reads plain trace files, not .xz archives.
            var unpacked = originals.Select(p => Decompression.IsXz(p) ? Decompression.Unpack(p, temp) : p).ToList();
            prepared.Add((host, unpacked, RecordingDirectory.FindInventory(originals)));
        }

        if (!lagOnly)
            StagesAndEndToEnd(o, influx.Url, prepared, ref db);

        var (lagHost, lagInputs, lagInventory) = prepared[0];
        ReplaySource replay;
        using (var source = TraceOpener.OpenAll(lagInputs))
            replay = ReplaySource.Capture(source);
        var lagVms = lagInventory is null ? [] : VmMapJson.Parse(File.ReadAllText(lagInventory));
        double span = (replay.LastTimestamp - replay.FirstTimestamp) / 1e9;
        double recorded = replay.Count / span;

        if (!lagOnly || steadyRuns > 0)
        {
            o.WriteLine();
            o.WriteLine(string.Create(Inv, $"3. end to end, as fast as possible, steady stream: {lagHost} looped {steadyLoops}× from memory (decoded once: no trace decoding in the agent)"));
            o.WriteLine($"  {"trace",-11} {"events",9} {"seconds",8} {"events/s",10} {"wire B/ev",9} {"agent read",10} {"Kafka acked",11} {"consumed",8} {"last point",10} {"cpu s",6} {"points",7} {"writes",6}  load");
            for (int run = 0; run < Math.Max(1, steadyRuns); run++)
            {
                var looped = new LoopedAgentSource(lagHost, replay, lagVms, steadyLoops, null);
                string name = "steady" + (++db).ToString(Inv);
                CreateDatabase(influx.Url, name);
                Row(o, lagHost + "×" + steadyLoops.ToString(Inv), RunOnce(influx.Url, name, lagHost, lagInputs, lagInventory, looped, 0, null));
            }
            if (lagOnly)
                return 0;
        }

        o.WriteLine();
        o.WriteLine(string.Create(Inv, $"4. window lag under a paced steady stream ({lagHost} looped from memory; recorded rate {recorded:N0} events/s)"));
        o.WriteLine("   lag of a 1 s window = wall time InfluxDB acknowledged its points − wall time the agent read its last event");
        foreach (double target in lagOnly ? new[] { rate } : new[] { recorded, rate / 2, rate })
        {
            int loops = Math.Max(1, (int)Math.Ceiling(target * seconds / replay.Count));
            var probe = new ReadProbe(1_000_000_000);
            var looped = new LoopedAgentSource(lagHost, replay, lagVms, loops, probe);
            double speed = target / recorded;
            string name = "lag" + (++db).ToString(Inv);
            CreateDatabase(influx.Url, name);
            // Shorter than a whole pass at recorded speed: the stream stops after `seconds` of wall time.
            var r = RunOnce(influx.Url, name, lagHost, lagInputs, lagInventory, looped, speed, probe, TimeSpan.FromSeconds(seconds));
            o.WriteLine(string.Create(Inv,
                $"  paced at {speed:F2}× recorded ({target:N0} events/s): {r.Events:N0} events in {r.Seconds:F2} s = {r.Events / r.Seconds:N0} events/s, wire {r.WireBytesPerEvent:F2} B/event, cpu {r.CpuSeconds:F2} s, {r.Writes} InfluxDB writes, {Load()}{r.Problem}"));
            var all = r.Lags.Select(l => l.Lag).ToList();
            o.WriteLine(string.Create(Inv,
                $"    {r.Lags.Count} windows: lag p50 {Percentile(all, 0.5):F3} s  p90 {Percentile(all, 0.9):F3} s  p99 {Percentile(all, 0.99):F3} s  max {Percentile(all, 1):F3} s"));
            WriteLagDetail(o, r.Lags, lagCsv);
        }
        return 0;
    }

    /// <summary>
    /// Where the lag comes from: the part of it spent in the InfluxDB write, the windows after the process's first
    /// 10 s (JIT tiering and the first GCs fall there), the largest lag of every 5 s of the run, and with
    /// <paramref name="csv"/> every window (read time from the run's start, lag, write part).
    /// </summary>
    private static void WriteLagDetail(TextWriter o, List<WindowLag> lags, string? csv)
    {
        if (lags.Count == 0)
            return;
        var writes = lags.Select(l => l.Write).ToList();
        var later = lags.Where(l => l.At >= 10).Select(l => l.Lag).ToList();
        o.WriteLine(string.Create(Inv,
            $"    of it in the InfluxDB write: p50 {Percentile(writes, 0.5):F3} s  p99 {Percentile(writes, 0.99):F3} s  max {Percentile(writes, 1):F3} s"));
        if (later.Count > 0)
        {
            o.WriteLine(string.Create(Inv,
                $"    {later.Count} windows read after the first 10 s: lag p50 {Percentile(later, 0.5):F3} s  p90 {Percentile(later, 0.9):F3} s  p99 {Percentile(later, 0.99):F3} s  max {Percentile(later, 1):F3} s"));
        }
        var slices = lags.GroupBy(l => (int)(l.At / 5)).OrderBy(g => g.Key)
            .Select(g => string.Create(Inv, $"{g.Key * 5}s:{g.Max(l => l.Lag):F2}"));
        o.WriteLine("    largest lag per 5 s of the run: " + string.Join(" ", slices));
        if (csv is not null)
        {
            File.WriteAllLines(csv, lags.OrderBy(l => l.At).Select(l => string.Create(Inv, $"{l.At:F4},{l.Lag:F4},{l.Write:F4}")).Prepend("read_s,lag_s,write_s"));
            o.WriteLine("    every window: " + csv);
        }
    }

    /// <summary>One window: when the agent read its last event (s from the run's start), its lag, and the part of it in the InfluxDB write.</summary>
    private readonly record struct WindowLag(double At, double Lag, double Write);

    private static void StagesAndEndToEnd(TextWriter o, string influxUrl, List<(string Host, List<string> Inputs, string? Inventory)> prepared, ref int db)
    {
        o.WriteLine();
        o.WriteLine("1. stages alone, same events: thread CPU s (least of 5) for in-process stages; wall s of one pass for Kafka and InfluxDB");
        foreach (var (host, inputs, inventory) in prepared)
        {
            var vms = inventory is null ? [] : VmMapJson.Parse(File.ReadAllText(inventory));
            string name = "stages" + (++db).ToString(Inv);
            CreateDatabase(influxUrl, name);
            var s = PipelineStages.Measure(inputs, vms, influxUrl, name, 5);
            o.WriteLine(string.Create(Inv, $"{host}: {s.Events:N0} events, {s.Records} records, wire {(double)s.RawBytes / s.Events:F2} B/event before zstd, {(double)s.ZstdBytes / s.Events:F2} after; {s.Points:N0} points; {Load()}"));
            o.WriteLine($"  {"stage",-38} {"seconds",8} {"events/s",12}  note");
            double sum = 0;
            foreach (var (stage, sec, cpu, note) in s.Stages)
            {
                if (cpu)
                    sum += sec;
                o.WriteLine(string.Create(Inv, $"  {stage,-38} {sec,8:F4} {s.Events / sec,12:N0}  {note}"));
            }
            o.WriteLine(string.Create(Inv, $"  {"CPU stages in series (one core)",-38} {sum,8:F4} {s.Events / sum,12:N0}  agent + zstd + worker, without Kafka's and InfluxDB's own work"));
        }

        o.WriteLine();
        o.WriteLine("2. end to end, as fast as possible, from the (unpacked) trace files, 3 runs each; times in s from the agent's start");
        o.WriteLine($"  {"trace",-11} {"events",9} {"seconds",8} {"events/s",10} {"wire B/ev",9} {"agent read",10} {"Kafka acked",11} {"consumed",8} {"last point",10} {"cpu s",6} {"points",7} {"writes",6}  load");
        foreach (var (host, inputs, inventory) in prepared)
        {
            for (int run = 0; run < 3; run++)
            {
                string name = "e2e" + (++db).ToString(Inv);
                CreateDatabase(influxUrl, name);
                Row(o, host, RunOnce(influxUrl, name, host, inputs, inventory, null, 0, null));
            }
        }
    }

    private static void Row(TextWriter o, string host, RunResult r) => o.WriteLine(string.Create(Inv,
        $"  {host,-11} {r.Events,9} {r.Seconds,8:F2} {r.Events / r.Seconds,10:N0} {r.WireBytesPerEvent,9:F2} {r.AgentReadSeconds,10:F2} {r.AgentAckedSeconds,11:F2} {r.ConsumedSeconds,8:F2} {r.Seconds,10:F2} {r.CpuSeconds,6:F2} {r.Points,7} {r.Writes,6}  {Load()}{r.Problem}"));

    private sealed record RunResult(long Events, double Seconds, double WireBytesPerEvent, double AgentReadSeconds, double AgentAckedSeconds,
        double ConsumedSeconds, double CpuSeconds, long Points, long Writes, List<WindowLag> Lags, string Problem);

    private static RunResult RunOnce(string influxUrl, string db, string host, List<string> inputs, string? inventory,
        LoopedAgentSource? looped, double speed, ReadProbe? probe, TimeSpan? stopAfter = null)
    {
        using var mock = new MockKafkaCluster();
        var kafka = new KafkaOptions { BootstrapServers = mock.BootstrapServers };
        mock.CreateVmtraceTopics(3, kafka);
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Worker:GroupId"] = "bench",
            ["Influx:Url"] = influxUrl,
            ["Influx:Database"] = db,
            ["Influx:RetentionPolicy"] = "",
            ["Agent:HostId"] = host,
            ["Agent:StopWhenDone"] = "false",
            ["Agent:Speed"] = speed.ToString("R", Inv),
        };
        if (inventory is not null)
            settings["Agent:Inventory"] = inventory;
        for (int i = 0; i < inputs.Count; i++)
            settings[$"Agent:Inputs:{i}"] = inputs[i];
        AckProbe? acks = null;
        using var worker = Build(settings, (s, c) =>
        {
            s.AddVmtraceWorker(c);
            s.AddSingleton<IPointWriter>(sp => acks = new AckProbe(new InfluxPointWriter(sp.GetRequiredService<InfluxClient>())));
        });
        using var agent = Build(settings, (s, c) =>
        {
            s.AddVmtraceAgent(c);
            if (looped is not null)
                s.AddSingleton<IAgentSource>(looped);
        });
        worker.StartAsync().GetAwaiter().GetResult();
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        // The group join (a few seconds on the mock) is not part of the pipeline's speed.
        var joined = DateTime.UtcNow.AddMinutes(1);
        while (counters.AssignedPartitions < 3 && DateTime.UtcNow < joined)
            Thread.Sleep(10);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        agent.StartAsync().GetAwaiter().GetResult();
        var agentService = agent.Services.GetRequiredService<AgentService>();
        var a = agentService.Counters;
        // Polled every millisecond: when the agent last read, when Kafka had acknowledged everything, when the
        // worker last took events, and when the last point was acknowledged by InfluxDB.
        long readDone = 0, acked = 0, consumed = 0, lastRead = -1, lastIn = -1;
        var limit = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < limit)
        {
            if (stopAfter is { } after && Stopwatch.GetElapsedTime(start) >= after)
                looped?.Stop();
            long now = Stopwatch.GetTimestamp();
            if (a.EventsRead != lastRead)
            {
                lastRead = a.EventsRead;
                readDone = now;
            }
            if (counters.EventsIn != lastIn)
            {
                lastIn = counters.EventsIn;
                consumed = now;
            }
            if (acked == 0 && agentService.Completion.IsCompleted)
                acked = now;
            if (counters.SessionsEnded == 1 && counters.PendingPoints == 0)
                break;
            Thread.Sleep(1);
        }
        var end = Stopwatch.GetTimestamp();
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        probe?.End();
        agent.StopAsync().GetAwaiter().GetResult();
        worker.StopAsync().GetAwaiter().GetResult();
        string problem = counters.EventsIn != a.EventsSent ? $"  PROBLEM: worker took {counters.EventsIn} events of {a.EventsSent}" : "";
        var lags = new List<WindowLag>();
        if (probe is not null && acks is not null)
        {
            foreach (var (window, (writeTicks, ackTicks)) in acks.Snapshot())
            {
                if (probe.LastReadTicks.TryGetValue(window, out long readTicks))
                {
                    lags.Add(new WindowLag(Stopwatch.GetElapsedTime(start, readTicks).TotalSeconds, Stopwatch.GetElapsedTime(readTicks, ackTicks).TotalSeconds,
                        Stopwatch.GetElapsedTime(Math.Max(readTicks, writeTicks), ackTicks).TotalSeconds));
                }
            }
        }
        double S(long t) => t == 0 ? double.NaN : Stopwatch.GetElapsedTime(start, t).TotalSeconds;
        return new RunResult(a.EventsSent, Stopwatch.GetElapsedTime(start, end).TotalSeconds, (double)a.BatchBytes / Math.Max(1, a.EventsSent),
            S(readDone), S(acked), S(consumed), cpu, counters.PointsQueued, counters.WriteCount, lags, problem);
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static void CreateDatabase(string url, string db)
    {
        using var http = new HttpClient();
        http.PostAsync($"{url}/query?q={Uri.EscapeDataString("CREATE DATABASE " + db)}", null).GetAwaiter().GetResult().EnsureSuccessStatusCode();
    }

    /// <summary>The machine is shared: every figure is printed with the load average beside it.</summary>
    internal static string Load()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"load {parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "load ?";
        }
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
