using System.Diagnostics;
using System.Globalization;
using Vmtrace.TestSupport.Wire;
using Vmtrace.Wire;

namespace Vmtrace.Bench;

/// <summary>
/// <c>wire</c>: for every corpus trace, bytes per event on the wire (raw, and zstd level 3 as librdkafka's producer
/// compresses: per record and per message set of 4 records) and the encoder's and decoder's events/s. Speeds are
/// measured on events replayed from memory (the wire records themselves), so trace decoding is not counted:
/// decode = EventBatchReader alone; check = <see cref="EventBatchReader.Validate"/> (what the worker does before it
/// decodes a batch); encode = (reader + EventBatchWriter) minus reader. Best of N runs.
/// </summary>
internal static class WireBenchmark
{


    public static int Run(string tracesDir, int runs, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(inv, "{0,-58} {1,9} {2,5} {3,8} {4,9} {5,9} {6,12} {7,12} {8,12}",
            "trace", "events", "recs", "raw B/ev", "zstd/rec", "zstd/set4", "encode ev/s", "decode ev/s", "check ev/s"));
        long totalEvents = 0, totalRaw = 0, totalZstd = 0, totalSet = 0;
        foreach (var t in WireCorpus.Traces)
        {
            string path = Path.Combine(tracesDir, t);
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                output.WriteLine($"{t,-58} missing");
                continue;
            }
            var records = WireSize.Encode(path, new EventBatchWriterOptions(), out long events);
            var (raw, zstd, set) = WireSize.Sizes(records);
            double decode = Best(runs, () => ReplayOnly(records)) is var d && d > 0 ? events / d : 0;
            double check = Best(runs, () => CheckOnly(records)) is var c && c > 0 ? events / c : 0;
            double both = Best(runs, () => ReplayAndEncode(records));
            double encodeSeconds = both - Best(runs, () => ReplayOnly(records));
            double encode = encodeSeconds > 0 ? events / encodeSeconds : 0;
            output.WriteLine(string.Format(inv, "{0,-58} {1,9} {2,5} {3,8:F2} {4,9:F2} {5,9:F2} {6,12:N0} {7,12:N0} {8,12:N0}",
                t, events, records.Count, (double)raw / events, (double)zstd / events, (double)set / events, encode, decode, check));
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

    private static long CheckOnly(List<byte[]> records)
    {
        var reader = new EventBatchReader(Cache);
        long sum = 0;
        foreach (var r in records)
        {
            reader.Load(r);
            reader.Validate();
            sum += reader.EventCount;
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
