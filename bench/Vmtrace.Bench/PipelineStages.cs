using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.Wire;

namespace Vmtrace.Bench;

/// <summary>
/// The pipeline's stages one at a time, each on one thread in this process, on the same events: what each
/// costs per event, so the end-to-end figure can be read against them. In-process stages: least thread CPU
/// time of <c>runs</c> runs after a warm-up. Kafka and InfluxDB: wall time of one pass (their work happens on
/// librdkafka's threads and in influxd).
/// </summary>
internal sealed class PipelineStages
{
    public long Events { get; private set; }
    public int Records { get; private set; }
    public long RawBytes { get; private set; }
    public long ZstdBytes { get; private set; }
    public int Points { get; private set; }
    /// <summary>Seconds per stage for all <see cref="Events"/> (InfluxDB: for all <see cref="Points"/>).</summary>
    public List<(string Stage, double Seconds, bool Cpu, string Note)> Stages { get; } = [];

    public static PipelineStages Measure(IReadOnlyList<string> inputs, IReadOnlyList<VmInventory> vms, string influxUrl, string database, int runs)
    {
        var s = new PipelineStages();
        long events = 0;
        double read = Best(runs, () =>
        {
            using var source = TraceOpener.OpenAll(inputs);
            long n = 0;
            while (source.MoveNext())
                n += source.Current.Tid >= -1 ? 1 : 0;
            events = n;
        });
        s.Events = events;
        s.Stages.Add(("agent: read (decode trace files)", read, true, "TraceOpener, unpacked files"));

        ReplaySource replay;
        using (var source = TraceOpener.OpenAll(inputs))
            replay = ReplaySource.Capture(source);
        List<byte[]> records = [];
        double encode = Best(runs, () =>
        {
            replay.Rewind();
            records = [];
            var writer = new EventBatchWriter(new HostRecordWriter("bench")) { CpuCount = replay.CpuCount };
            while (replay.MoveNext())
            {
                writer.Append(replay.Current);
                if (writer.IsFull)
                    records.Add(writer.Flush());
            }
            if (writer.EventCount > 0)
                records.Add(writer.Flush());
        });
        s.Records = records.Count;
        s.RawBytes = records.Sum(r => (long)r.Length);
        s.Stages.Add(("agent: wire encode", encode, true, "EventBatchWriter, events from memory"));

        List<byte[]> compressed = [];
        double zstd = Best(runs, () =>
        {
            using var c = new ZstdSharp.Compressor(3);
            compressed = records.Select(r => c.Wrap(r).ToArray()).ToList();
        });
        s.ZstdBytes = compressed.Sum(r => (long)r.Length);
        s.Stages.Add(("zstd-3 compress (librdkafka's job)", zstd, true, "managed ZstdSharp, per record"));
        double unzstd = Best(runs, () =>
        {
            using var d = new ZstdSharp.Decompressor();
            foreach (var r in compressed)
                GC.KeepAlive(d.Unwrap(r).Length);
        });
        s.Stages.Add(("zstd decompress (librdkafka's job)", unzstd, true, "managed ZstdSharp, per record"));

        var (produce, consume) = Kafka(records);
        s.Stages.Add(("Kafka: produce + flush (mock, TCP)", produce, false, "KafkaRecordSink, acks=all, zstd; after a first record"));
        s.Stages.Add(("Kafka: consume (mock, TCP)", consume, false, "one consumer, assigned partitions; after a first record"));

        var cache = new WireTypeCache();
        double decode = Best(runs, () =>
        {
            var reader = new EventBatchReader(cache);
            long sum = 0;
            foreach (var r in records)
            {
                reader.Load(r);
                while (reader.MoveNext())
                    sum += reader.Current.Timestamp;
            }
            GC.KeepAlive(sum);
        });
        s.Stages.Add(("worker: wire decode", decode, true, "EventBatchReader"));

        List<string> lines = [];
        double analysis = Best(runs, () => lines = Analyse(records, cache, vms, replay.InitialThreadNames));
        s.Points = lines.Count;
        s.Stages.Add(("worker: analysis + line protocol", analysis - decode, true, "(decode + analysis) − decode"));
        double memory = Best(runs, () =>
        {
            replay.Rewind();
            var a = new HostAnalysis(new AnalysisOptions { WindowNs = 1_000_000_000, TopInterferers = 5, CpuCount = replay.CpuCount });
            a.AddThreadNames(replay.InitialThreadNames);
            foreach (var vm in vms)
                a.AddInventory(vm);
            long last = 0;
            while (replay.MoveNext())
            {
                var e = replay.Current;
                a.OnEvent(e);
                last = e.Timestamp;
            }
            a.Flush(last);
            GC.KeepAlive(a.TakeClosedWindows().Count);
        });
        s.Stages.Add(("(analysis alone, events from memory)", memory, false, "not a stage: for comparison"));

        using var client = new InfluxClient(new InfluxOptions { Url = new Uri(influxUrl), Database = database, RetentionPolicy = null });
        // Wall time: the work is influxd's (another process) and the HTTP client's threads.
        client.WriteAsync(lines).GetAwaiter().GetResult();
        var influxClock = Stopwatch.StartNew();
        client.WriteAsync(lines).GetAwaiter().GetResult();
        double influx = influxClock.Elapsed.TotalSeconds;
        s.Stages.Add(("worker: InfluxDB write (gzip, HTTP)", influx, false, $"{lines.Count} points, 5,000 per request"));
        return s;
    }

    private static List<string> Analyse(List<byte[]> records, WireTypeCache cache, IReadOnlyList<VmInventory> vms, IReadOnlyDictionary<int, string> names)
    {
        var reader = new EventBatchReader(cache);
        HostAnalysis? analysis = null;
        var text = new StringBuilder();
        var writer = new LineProtocolWriter(text);
        var lines = new List<string>();
        long last = 0;
        foreach (var r in records)
        {
            reader.Load(r);
            if (analysis is null)
            {
                analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 1_000_000_000, TopInterferers = 5, CpuCount = reader.CpuCount });
                analysis.AddThreadNames(names);
                foreach (var vm in vms)
                    analysis.AddInventory(vm);
            }
            while (reader.MoveNext())
            {
                var e = reader.Current;
                analysis.OnEvent(e);
                last = e.Timestamp;
            }
            Emit(analysis, text, writer, lines);
        }
        if (analysis is not null)
        {
            analysis.Flush(last);
            Emit(analysis, text, writer, lines);
        }
        return lines;
    }

    private static void Emit(HostAnalysis analysis, StringBuilder text, LineProtocolWriter writer, List<string> lines)
    {
        foreach (var window in analysis.TakeClosedWindows())
        {
            text.Clear();
            MetricsLineProtocol.Write(writer, window, "bench");
            lines.AddRange(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    /// <summary>
    /// Wall time to produce (and have acknowledged) and to consume every record but the first: the first one, sent
    /// and read before the clock starts, pays for connections, metadata and the idempotent producer's id.
    /// </summary>
    private static (double Produce, double Consume) Kafka(List<byte[]> records)
    {
        using var mock = new MockKafkaCluster();
        var kafka = new KafkaOptions { BootstrapServers = mock.BootstrapServers };
        mock.CreateVmtraceTopics(3, kafka);
        double produce;
        using (var sink = new KafkaRecordSink(kafka, 64 * 1024, new AgentCounters()))
        {
            sink.Send("bench", records[0], false, CancellationToken.None);
            sink.Flush(TimeSpan.FromMinutes(1));
            var sw = Stopwatch.StartNew();
            foreach (var r in records.Skip(1))
                sink.Send("bench", r, false, CancellationToken.None);
            sink.Flush(TimeSpan.FromMinutes(1));
            produce = sw.Elapsed.TotalSeconds;
        }
        using var consumer = new ConsumerBuilder<string?, byte[]>(kafka.Apply(new ConsumerConfig { GroupId = "stages", EnableAutoCommit = false })).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset(kafka.EventsTopic, p, Offset.Beginning)));
        var limit = DateTime.UtcNow.AddMinutes(1);
        int got = 0;
        var clock = new Stopwatch();
        while (got < records.Count && DateTime.UtcNow < limit)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } && ++got == 1)
                clock.Start();
        }
        double consume = clock.Elapsed.TotalSeconds;
        consumer.Close();
        // Per event of the records timed (all but the first), scaled to all events by the caller's division.
        double share = (double)records.Count / Math.Max(1, records.Count - 1);
        return (produce * share, got == records.Count ? consume * share : double.NaN);
    }

    /// <summary>
    /// Least CPU time of this thread over <paramref name="runs"/> runs after a warm-up: on this shared, loaded
    /// machine wall time mostly measures the other jobs; the thread's CPU time measures the stage.
    /// </summary>
    private static double Best(int runs, Action work)
    {
        work();
        double best = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            double? cpu0 = CpuTime.Thread();
            work();
            double? cpu1 = CpuTime.Thread();
            best = Math.Min(best, cpu0 is double a && cpu1 is double b ? b - a : sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
