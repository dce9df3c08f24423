using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Vmtrace.Agent;
using Vmtrace.Decoding.Archives;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.TestSupport;

namespace Vmtrace.Fleet;

/// <summary>
/// A fleet, simulated: many hosts (recorded traces replayed under distinct host ids, shifted in time, started at
/// jittered moments and speeds, a few going silent for a while) produce into one events topic; a group of
/// <c>vmtrace worker</c> processes consumes it, one SIGKILLed part-way and one more joining later; at the end every
/// host's points in InfluxDB are compared with <c>vmtrace analyze</c> of its trace. Measures events/s, points/s,
/// consumer lag, series cardinality and each worker's memory and CPU.
/// </summary>
public sealed class FleetSimulation(FleetOptions options, TextWriter log)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(120) };
    private string _influxUrl = "";
    private string _database = "";

    public async Task<FleetReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0)
            throw new ArgumentException("fleet options: " + string.Join("; ", problems));
        var random = new Random(options.Seed);
        var temps = new List<TempDirectory>();
        var workers = new List<FleetWorker>();
        var sinks = new List<KafkaRecordSink>();
        InfluxServer? ownInflux = null;
        MockKafkaCluster? mock = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // The traces: unpacked once, counted, and analysed once each (the expected points of every host replaying it).
            var prepared = new Dictionary<FleetTrace, PreparedTrace>();
            var expected = new Dictionary<FleetTrace, SortedSet<string>>();
            foreach (var trace in options.Traces)
            {
                var temp = new TempDirectory();
                temps.Add(temp);
                prepared[trace] = PreparedTrace.Of(trace, temp);
                expected[trace] = await FleetExpectation.AnalyzeAsync(trace);
                log.WriteLine(string.Create(Inv, $"trace {trace.Name}: {prepared[trace].Events:N0} events over {prepared[trace].SpanSeconds:F1} s, analyze gives {expected[trace].Count:N0} points"));
            }

            if (options.InfluxUrl is null)
                ownInflux = new InfluxServer();
            _influxUrl = options.InfluxUrl ?? ownInflux!.Url;
            string suffix = $"{Environment.ProcessId}_{DateTime.UtcNow:HHmmss}";
            _database = "fleet_" + suffix;
            await QueryAsync("CREATE DATABASE " + _database);

            KafkaOptions kafka;
            if (options.KafkaBootstrapServers is { Length: > 0 } servers)
            {
                kafka = options.ExistingTopics
                    ? new KafkaOptions { BootstrapServers = servers }
                    : new KafkaOptions { BootstrapServers = servers, EventsTopic = "vmtrace.events.fleet_" + suffix, StateTopic = "vmtrace.state.fleet_" + suffix, DeadLetterTopic = "vmtrace.deadletter.fleet_" + suffix };
                foreach (var (k, v) in options.KafkaProperties)
                    kafka.Properties[k] = v;
                if (options.ExistingTopics)
                    options.Partitions = CheckExistingTopics(kafka);
                else
                    await CreateTopicsAsync(kafka);
            }
            else
            {
                mock = new MockKafkaCluster();
                kafka = new KafkaOptions { BootstrapServers = mock.BootstrapServers };
                mock.CreateVmtraceTopics(options.Partitions, kafka);
            }
            log.WriteLine($"Kafka {kafka.BootstrapServers} ({(mock is null ? "broker" : "librdkafka mock cluster")}), topic {kafka.EventsTopic} with {options.Partitions} partitions; InfluxDB {_influxUrl} database {_database}");

            var hosts = Plan(random, prepared);
            var span = hosts.Max(h => h.StartDelay + h.PlannedDuration(options.Silence));
            log.WriteLine(string.Create(Inv, $"{hosts.Count} hosts, {hosts.Sum(h => h.Prepared.Events):N0} events, planned replay span {span.TotalSeconds:F1} s; {hosts.Count(h => h.SilentAfterRecords is not null)} silent for {options.Silence.TotalSeconds} s; {options.Workers} workers, one killed at {options.KillAt:P0}, one joining at {options.JoinAt:P0}"));

            var settings = WorkerSettings(kafka, suffix);
            for (int i = 1; i <= options.Workers; i++)
                workers.Add(new FleetWorker("fleet-w" + i.ToString(Inv), settings));
            for (int i = 0; i < hosts.Count; i += options.HostsPerProducer)
                sinks.Add(new KafkaRecordSink(kafka, 64 * 1024, new AgentCounters()));
            // The hosts start once every worker runs (has reported its health), so that each takes its share from the start.
            var readyUntil = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            foreach (var w in workers)
            {
                while (await LastEventsInAsync(w.Instance) is null)
                {
                    if (w.HasExited || DateTime.UtcNow > readyUntil)
                        throw new InvalidOperationException($"worker {w.Instance} did not start:\n{w.Output}");
                    await Task.Delay(250, cancellationToken);
                }
            }

            // The run: hosts started at their moments, the kill and the join at theirs, the workers sampled every second.
            var clock = Stopwatch.StartNew();
            var driverCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            var runStarted = DateTime.UtcNow;
            var killAt = span * options.KillAt;
            var joinAt = span * options.JoinAt;
            var victim = workers[^1];
            FleetWorker? joiner = null;
            TimeSpan? killedAt = null, joinedAt = null;
            long victimEvents = 0;
            int next = 0;
            var lastSample = TimeSpan.FromSeconds(-1);
            var lastProgress = TimeSpan.Zero;
            while (next < hosts.Count || !hosts.All(h => h.Completion.IsCompleted) || joiner is null || killedAt is null)
            {
                var now = clock.Elapsed;
                while (next < hosts.Count && hosts[next].StartDelay <= now)
                {
                    hosts[next].Start(sinks[next / options.HostsPerProducer], options.Silence, stop.Token);
                    next++;
                }
                // The victim dies once it has taken events in (so that it dies holding state), at the planned moment or later.
                // If it never takes any (every host over), it dies all the same: the report shows it and the test fails.
                if (killedAt is null && now >= killAt && (await LastEventsInAsync(victim.Instance) > 0 || (next == hosts.Count && hosts.All(h => h.Completion.IsCompleted))))
                {
                    victimEvents = (await LastEventsInAsync(victim.Instance)).GetValueOrDefault();
                    victim.Kill();
                    killedAt = now;
                    log.WriteLine(string.Create(Inv, $"{now.TotalSeconds,6:F1} s: SIGKILL {victim.Instance} (pid {victim.Pid}, RSS {victim.RssBytes / 1048576.0:F0} MiB, {victimEvents:N0} events taken in)"));
                }
                if (joiner is null && now >= joinAt)
                {
                    joiner = new FleetWorker("fleet-w" + (options.Workers + 1).ToString(Inv), settings);
                    workers.Add(joiner);
                    joinedAt = now;
                    log.WriteLine(string.Create(Inv, $"{now.TotalSeconds,6:F1} s: {joiner.Instance} joins (pid {joiner.Pid})"));
                }
                if (now - lastSample >= TimeSpan.FromSeconds(1))
                {
                    lastSample = now;
                    foreach (var w in workers.Where(w => w.Killed is null))
                        w.Sample();
                    if (now - lastProgress >= TimeSpan.FromSeconds(30))
                    {
                        lastProgress = now;
                        log.WriteLine(string.Create(Inv, $"{now.TotalSeconds,6:F1} s: {next} hosts started, {hosts.Count(h => h.Completion.IsCompleted)} done, {hosts.Sum(h => h.EventsSent):N0} events sent; workers' RSS {string.Join(", ", workers.Where(w => w.Killed is null).Select(w => $"{w.RssBytes / 1048576.0:F0}"))} MiB; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
                    }
                    var dead = workers.FirstOrDefault(w => w.Killed is null && w.HasExited);
                    if (dead is not null)
                        throw new InvalidOperationException($"worker {dead.Instance} exited by itself:\n{dead.Output}");
                }
                if (hosts.FirstOrDefault(h => h.Completion.IsFaulted) is { } failed)
                    throw new InvalidOperationException($"host {failed.Id}'s replay failed: {failed.Completion.Exception?.GetBaseException().Message}", failed.Completion.Exception);
                await Task.Delay(100, cancellationToken);
            }
            // A replay's last record (its session end) is queued after its own flush.
            foreach (var sink in sinks)
                sink.Flush(TimeSpan.FromMinutes(2));
            var agentsDone = clock.Elapsed;
            log.WriteLine(string.Create(Inv, $"{agentsDone.TotalSeconds,6:F1} s: every host's replay is over and acknowledged by Kafka"));

            // Until InfluxDB holds every host's points: hosts already equal are not queried again.
            var pending = hosts.ToList();
            var settleUntil = clock.Elapsed + options.SettleTimeout;
            var lastSettle = clock.Elapsed;
            while (pending.Count > 0 && clock.Elapsed < settleUntil)
            {
                foreach (var w in workers.Where(w => w.Killed is null))
                    w.Sample();
                var still = new List<FleetHost>();
                foreach (var h in pending)
                {
                    if (!(await ActualAsync(h)).SetEquals(expected[h.Trace]))
                        still.Add(h);
                }
                lastSettle = clock.Elapsed;
                if (still.Count != pending.Count && hosts.Count > 100)
                    log.WriteLine(string.Create(Inv, $"{lastSettle.TotalSeconds,6:F1} s: {hosts.Count - still.Count} of {hosts.Count} hosts exact"));
                pending = still;
                if (pending.Count > 0)
                    await Task.Delay(500, cancellationToken);
            }
            var complete = lastSettle;
            log.WriteLine(string.Create(Inv, $"{complete.TotalSeconds,6:F1} s: {hosts.Count - pending.Count} of {hosts.Count} hosts hold exactly analyze's points"));

            // A last check of every host, and what each worker measured.
            var mismatches = new List<string>();
            long points = 0;
            foreach (var h in hosts)
            {
                var actual = await ActualAsync(h);
                points += actual.Count;
                if (!actual.SetEquals(expected[h.Trace]))
                    mismatches.Add($"{h.Id} ({h.Trace.Name}, shift {h.ShiftNs} ns): {Diff(expected[h.Trace], actual)}");
            }
            foreach (var w in workers.Where(w => w.Killed is null))
                w.Sample();
            var driverCpu = Process.GetCurrentProcess().TotalProcessorTime - driverCpuStart;
            var health = await HealthAsync();
            var cardinality = await CardinalityAsync();
            return new FleetReport
            {
                Hosts = hosts.Count,
                Traces = options.Traces.Count,
                Partitions = options.Partitions,
                Events = hosts.Sum(h => h.EventsSent),
                Points = points,
                SilentHosts = hosts.Count(h => h.WentSilent),
                ReplaySpan = agentsDone,
                Duration = complete,
                KilledAt = killedAt ?? TimeSpan.Zero,
                VictimEventsBeforeKill = victimEvents,
                JoinedAt = joinedAt ?? TimeSpan.Zero,
                Mismatches = mismatches,
                Workers = workers.Select(w => new FleetReport.WorkerFigures(w.Instance, w.PeakRssBytes, w.RssBytes, w.CpuTime, w.Killed is not null,
                    w.RestoredPartitionLines, health.EventsIn.GetValueOrDefault(w.Instance), health.PointsWritten.GetValueOrDefault(w.Instance),
                    health.MaxLag.GetValueOrDefault(w.Instance))).ToList(),
                PeakEventsPerSecond = health.PeakEventsPerSecond,
                PeakPointsPerSecond = health.PeakPointsPerSecond,
                MaxConsumerLag = health.MaxTotalLag,
                LagSeries = health.LagSeries,
                SeriesCardinality = cardinality.Total,
                VmtraceSeriesCardinality = cardinality.Vmtrace,
                AgentsCpu = driverCpu,
                AgentsRssBytes = Environment.WorkingSet,
                Database = _database,
                Started = runStarted,
            };
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var w in workers)
                w.Dispose();
            foreach (var s in sinks)
                s.Dispose();
            mock?.Dispose();
            ownInflux?.Dispose();
            foreach (var t in temps)
                t.Dispose();
            _http.Dispose();
        }
    }

    /// <summary>Hosts in start order: trace i mod count, a random start within the spread, shift back, speed, silence.</summary>
    private List<FleetHost> Plan(Random random, Dictionary<FleetTrace, PreparedTrace> prepared)
    {
        var silent = Enumerable.Range(0, options.Hosts).OrderBy(_ => random.Next()).Take(options.SilentHosts).ToHashSet();
        var hosts = new List<FleetHost>();
        for (int i = 0; i < options.Hosts; i++)
        {
            var trace = options.Traces[i % options.Traces.Count];
            var start = TimeSpan.FromMilliseconds(random.NextDouble() * options.StartSpread.TotalMilliseconds);
            int back = options.MaxShiftBackSeconds > 0 ? random.Next(options.MaxShiftBackSeconds) : 0;
            double speed = options.Speed * (1 + options.SpeedJitter * (2 * random.NextDouble() - 1));
            // Record 0 is the inventory: a silent host stops after one to three event batches.
            int? silentAfter = silent.Contains(i) ? 2 + random.Next(3) : null;
            hosts.Add(new FleetHost("fleet-" + i.ToString("D4", Inv), trace, prepared[trace], start, back, speed, silentAfter));
        }
        return [.. hosts.OrderBy(h => h.StartDelay)];
    }

    private Dictionary<string, string> WorkerSettings(KafkaOptions kafka, string suffix)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka:EventsTopic"] = kafka.EventsTopic,
            ["Kafka:StateTopic"] = kafka.StateTopic,
            ["Kafka:DeadLetterTopic"] = kafka.DeadLetterTopic,
            // A killed member must leave the group quickly so that the others take its partitions over.
            ["Kafka:Properties:session.timeout.ms"] = "6000",
            ["Kafka:Properties:heartbeat.interval.ms"] = "500",
            ["Worker:GroupId"] = "fleet_" + suffix,
            ["Worker:CheckpointInterval"] = "00:00:01",
            ["Worker:HealthInterval"] = options.HealthInterval.ToString("c", Inv),
            ["Worker:DeadLetterDirectory"] = Path.Combine(Path.GetTempPath(), "vmtrace-fleet-deadletter-" + suffix),
            ["Influx:Url"] = _influxUrl,
            ["Influx:Database"] = _database,
            ["Influx:RetentionPolicy"] = "",
        };
        foreach (var (k, v) in options.KafkaProperties)
            settings["Kafka:Properties:" + k] = v;
        return settings;
    }

    /// <summary>
    /// The events topic as it is (e.g. <c>vmtrace dev-kafka</c>'s, which takes no CreateTopics): its partition count,
    /// after checking that it is empty (the hosts' ids repeat from run to run, an earlier run's records would be counted).
    /// </summary>
    private static int CheckExistingTopics(KafkaOptions kafka)
    {
        using var admin = new AdminClientBuilder(kafka.Apply(new AdminClientConfig())).Build();
        var topic = admin.GetMetadata(kafka.EventsTopic, TimeSpan.FromSeconds(30)).Topics.Single();
        if (topic.Error.IsError || topic.Partitions.Count == 0)
            throw new InvalidOperationException($"topic {kafka.EventsTopic}: {topic.Error.Reason}");
        using var probe = new ConsumerBuilder<byte[], byte[]>(kafka.Apply(new ConsumerConfig { GroupId = "vmtrace-fleet-probe" })).Build();
        long records = topic.Partitions.Sum(p => probe.QueryWatermarkOffsets(new TopicPartition(kafka.EventsTopic, p.PartitionId), TimeSpan.FromSeconds(30)).High.Value);
        if (records > 0)
            throw new InvalidOperationException($"topic {kafka.EventsTopic} already holds {records} records: start the simulation on empty topics (a fresh vmtrace dev-kafka)");
        return topic.Partitions.Count;
    }

    private async Task CreateTopicsAsync(KafkaOptions kafka)
    {
        using var admin = new AdminClientBuilder(kafka.Apply(new AdminClientConfig())).Build();
        await admin.CreateTopicsAsync(
        [
            new TopicSpecification { Name = kafka.EventsTopic, NumPartitions = options.Partitions, ReplicationFactor = options.Replication },
            new TopicSpecification
            {
                Name = kafka.StateTopic, NumPartitions = options.Partitions, ReplicationFactor = options.Replication,
                Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["max.message.bytes"] = "67108864" },
            },
            new TopicSpecification { Name = kafka.DeadLetterTopic, NumPartitions = 1, ReplicationFactor = options.Replication },
        ]);
    }

    /// <summary>A worker's events_in at its latest pipeline_health, or null before its first.</summary>
    private async Task<long?> LastEventsInAsync(string instance)
    {
        using var doc = JsonDocument.Parse(await QueryAsync($"SELECT last(events_in) FROM pipeline_health WHERE component = 'worker' AND instance = '{instance}'"));
        var result = doc.RootElement.GetProperty("results")[0];
        return result.TryGetProperty("series", out var s) ? s[0].GetProperty("values")[0][1].GetInt64() : null;
    }

    private async Task<SortedSet<string>> ActualAsync(FleetHost host)
    {
        string json = await QueryAsync($"SELECT * FROM /^vmtrace_/ WHERE \"host\" = '{host.Id}' GROUP BY *");
        return FleetExpectation.Unshift(json, host.ShiftNs, host.Trace.Name);
    }

    private static string Diff(SortedSet<string> expected, SortedSet<string> actual)
    {
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        return $"expected {expected.Count} points, got {actual.Count}; {missing.Count} missing (first: {missing.FirstOrDefault()}), {extra.Count} unexpected (first: {extra.FirstOrDefault()})";
    }

    private sealed record HealthFigures(
        Dictionary<string, long> EventsIn, Dictionary<string, long> PointsWritten, Dictionary<string, long> MaxLag,
        double PeakEventsPerSecond, double PeakPointsPerSecond, long MaxTotalLag, IReadOnlyList<(double Seconds, long Lag)> LagSeries);

    /// <summary>
    /// The workers' pipeline_health: per instance its last events_in and points_written and its largest consumer_lag;
    /// over all instances, per second, the events and points they took in (peak) and their summed lag.
    /// </summary>
    private async Task<HealthFigures> HealthAsync()
    {
        string json = await QueryAsync("SELECT events_in, points_written, consumer_lag FROM pipeline_health WHERE component = 'worker' GROUP BY instance");
        var eventsIn = new Dictionary<string, long>(StringComparer.Ordinal);
        var pointsWritten = new Dictionary<string, long>(StringComparer.Ordinal);
        var maxLag = new Dictionary<string, long>(StringComparer.Ordinal);
        var eventRate = new SortedDictionary<long, double>();
        var pointRate = new SortedDictionary<long, double>();
        var lagBySecond = new SortedDictionary<long, Dictionary<string, long>>();
        using var doc = JsonDocument.Parse(json);
        foreach (var result in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            if (!result.TryGetProperty("series", out var series))
                continue;
            foreach (var s in series.EnumerateArray())
            {
                string instance = s.GetProperty("tags").GetProperty("instance").GetString() ?? "";
                long prevTime = 0, prevEvents = 0, prevPoints = 0;
                foreach (var row in s.GetProperty("values").EnumerateArray())
                {
                    long time = row[0].GetInt64();
                    long events = row[1].ValueKind == JsonValueKind.Number ? row[1].GetInt64() : 0;
                    long written = row[2].ValueKind == JsonValueKind.Number ? row[2].GetInt64() : 0;
                    long lag = row[3].ValueKind == JsonValueKind.Number ? row[3].GetInt64() : 0;
                    long second = time / 1_000_000_000;
                    eventsIn[instance] = events;
                    pointsWritten[instance] = written;
                    maxLag[instance] = Math.Max(maxLag.GetValueOrDefault(instance), lag);
                    if (!lagBySecond.TryGetValue(second, out var lags))
                        lagBySecond[second] = lags = new Dictionary<string, long>(StringComparer.Ordinal);
                    lags[instance] = lag;
                    if (prevTime != 0 && time > prevTime)
                    {
                        double seconds = (time - prevTime) / 1e9;
                        eventRate[second] = eventRate.GetValueOrDefault(second) + (events - prevEvents) / seconds;
                        pointRate[second] = pointRate.GetValueOrDefault(second) + (written - prevPoints) / seconds;
                    }
                    (prevTime, prevEvents, prevPoints) = (time, events, written);
                }
            }
        }
        long first = lagBySecond.Keys.FirstOrDefault();
        var lagSeries = lagBySecond.Select(kv => ((double)(kv.Key - first), kv.Value.Values.Sum())).ToList();
        return new HealthFigures(eventsIn, pointsWritten, maxLag, eventRate.Values.DefaultIfEmpty(0).Max(), pointRate.Values.DefaultIfEmpty(0).Max(),
            lagSeries.Select(x => x.Item2).DefaultIfEmpty(0).Max(), lagSeries);
    }

    /// <summary>Exact series cardinality of the database: all measurements, and the vmtrace_* ones.</summary>
    private async Task<(long Total, long Vmtrace)> CardinalityAsync()
    {
        string json = await QueryAsync("SHOW SERIES EXACT CARDINALITY");
        long total = 0, vmtrace = 0;
        using var doc = JsonDocument.Parse(json);
        foreach (var result in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            if (!result.TryGetProperty("series", out var series))
                continue;
            foreach (var s in series.EnumerateArray())
            {
                long n = s.GetProperty("values")[0][0].GetInt64();
                total += n;
                if (s.GetProperty("name").GetString()?.StartsWith("vmtrace_", StringComparison.Ordinal) == true)
                    vmtrace += n;
            }
        }
        return (total, vmtrace);
    }

    private async Task<string> QueryAsync(string q)
    {
        string uri = $"{_influxUrl}/query?db={Uri.EscapeDataString(_database)}&epoch=ns&q={Uri.EscapeDataString(q)}";
        using var response = q.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) || q.StartsWith("SHOW", StringComparison.OrdinalIgnoreCase)
            ? await _http.GetAsync(uri)
            : await _http.PostAsync(uri, null);
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"InfluxQL '{q}' → {(int)response.StatusCode}: {body}");
        return body;
    }
}
