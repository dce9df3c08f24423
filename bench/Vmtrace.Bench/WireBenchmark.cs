using System.Diagnostics;
using System.Globalization;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Bench;

/// <summary>
/// <c>wire</c>: for every corpus trace, bytes per event on the wire (raw, and zstd level 3 as librdkafka's producer
/// compresses: per record and per message set of 4 records) and the encoder's and decoder's events/s. Speeds are
/// measured on events replayed from memory (the wire records themselves), so trace decoding is not counted:
/// decode = EventBatchReader alone; encode = (reader + EventBatchWriter) minus reader. Best of N runs.
/// </summary>
internal static class WireBenchmark
{
    private const int RecordsPerMessageSet = 4;

    private static readonly string[] Traces =
    [
        "tcg-qemu/s2-cpu-contention/trace.dat.xz",
        "tcg-qemu/s3-disk-vs-cpu/trace.dat.xz",
        "tcg-qemu/s4-net/trace.dat.xz",
        "tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz",
        "tcg-qemu/s3-disk-vs-cpu/perf-ctf.tar.xz",
        "tcg-qemu/s4-net/perf-ctf.tar.xz",
        "tcg-qemu/s2-cpu-contention/qemu-vmA.log",
        "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz",
        "tcg-qemu/s4-net/qemu-vmN.log.xz",
        "hip24-kvm-host-guest-pair/host.trace.dat",
        "hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat",
        "hip24-kvm-host-allkvm/host.trace.dat",
        "hip24-kvm-host-2vms-46s/host.trace.dat",
        "tracecompass-test-traces-ctf/flipping-endianness",
        "tracecompass-test-traces-ctf/synctraces/scp_src",
        "tracecompass-test-traces-ctf/synctraces/scp_dest",
        "tracecompass-test-traces-ctf/bug446190",
        "tracecompass-test-traces-ctf/many-threads",
        "tracecompass-vm-xml-stubs/OneQemuKvm/host.xml",
    ];

    public static int Run(string tracesDir, int runs, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(inv, "{0,-58} {1,9} {2,5} {3,8} {4,9} {5,9} {6,12} {7,12}",
            "trace", "events", "recs", "raw B/ev", "zstd/rec", "zstd/set4", "encode ev/s", "decode ev/s"));
        long totalEvents = 0, totalRaw = 0, totalZstd = 0, totalSet = 0;
        foreach (var t in Traces)
        {
            string path = Path.Combine(tracesDir, t);
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                output.WriteLine($"{t,-58} missing");
                continue;
            }
            var records = Encode(path, out long events);
            var (raw, zstd, set) = Sizes(records);
            double decode = Best(runs, () => ReplayOnly(records)) is var d && d > 0 ? events / d : 0;
            double both = Best(runs, () => ReplayAndEncode(records));
            double encodeSeconds = both - Best(runs, () => ReplayOnly(records));
            double encode = encodeSeconds > 0 ? events / encodeSeconds : 0;
            output.WriteLine(string.Format(inv, "{0,-58} {1,9} {2,5} {3,8:F2} {4,9:F2} {5,9:F2} {6,12:N0} {7,12:N0}",
                t, events, records.Count, (double)raw / events, (double)zstd / events, (double)set / events, encode, decode));
            totalEvents += events;
            totalRaw += raw;
            totalZstd += zstd;
            totalSet += set;
        }
        if (totalEvents > 0)
        {
            output.WriteLine(string.Format(inv, "{0,-58} {1,9} {2,5} {3,8:F2} {4,9:F2} {5,9:F2}",
                "all traces", totalEvents, "", (double)totalRaw / totalEvents, (double)totalZstd / totalEvents, (double)totalSet / totalEvents));
        }
        return 0;
    }

    private static List<byte[]> Encode(string path, out long events)
    {
        var records = new List<byte[]>();
        events = 0;
        using var source = TraceOpener.Open(path);
        var writer = new EventBatchWriter(new HostRecordWriter("host-0001.example")) { Clock = source.Clock, CpuCount = source.CpuCount };
        while (source.MoveNext())
        {
            if (writer.Append(source.Current))
                events++;
            if (writer.IsFull)
                records.Add(writer.Flush());
        }
        if (writer.EventCount > 0)
            records.Add(writer.Flush());
        return records;
    }

    private static (long Raw, long Zstd, long Set) Sizes(List<byte[]> records)
    {
        using var zstd = new ZstdSharp.Compressor(3);
        long raw = 0, perRecord = 0, perSet = 0;
        foreach (var r in records)
        {
            raw += r.Length;
            perRecord += zstd.Wrap(r).Length;
        }
        for (int i = 0; i < records.Count; i += RecordsPerMessageSet)
        {
            using var set = new MemoryStream();
            foreach (var r in records.Skip(i).Take(RecordsPerMessageSet))
            {
                set.Write(BitConverter.GetBytes(r.Length));
                set.Write(r);
            }
            perSet += zstd.Wrap(set.ToArray()).Length;
        }
        return (raw, perRecord, perSet);
    }

    private static readonly WireTypeCache Cache = new();

    private static long ReplayOnly(List<byte[]> records)
    {
        var reader = new EventBatchReader(Cache);
        long sum = 0;
        foreach (var r in records)
        {
            reader.Load(r);
            while (reader.MoveNext())
                sum += reader.Current.Timestamp;
        }
        return sum;
    }

    private static readonly EventBatchWriter Writer = new(new HostRecordWriter("bench"));

    private static long ReplayAndEncode(List<byte[]> records)
    {
        var reader = new EventBatchReader(Cache);
        long sum = 0;
        foreach (var r in records)
        {
            reader.Load(r);
            while (reader.MoveNext())
            {
                Writer.Append(reader.Current);
                if (Writer.IsFull)
                    sum += Writer.Flush().Length;
            }
        }
        sum += Writer.Flush().Length;
        return sum;
    }

    /// <summary>Best wall time of <paramref name="runs"/> runs after one warm-up, in seconds.</summary>
    private static double Best(int runs, Func<long> work)
    {
        work();
        double best = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            long r = work();
            sw.Stop();
            GC.KeepAlive(r);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
