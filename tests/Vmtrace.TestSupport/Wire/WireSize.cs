using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.TestSupport.Wire;

/// <summary>Encodes a whole trace and measures its records raw and compressed the way the Kafka producer would.</summary>
public sealed record WireSize(string Trace, long Events, int Records, long RawBytes, long ZstdRecordBytes, long ZstdMessageSetBytes)
{
    public const int RecordsPerMessageSet = 4;

    public double RawPerEvent => (double)RawBytes / Events;
    public double ZstdPerRecord => (double)ZstdRecordBytes / Events;
    public double ZstdMessageSet => (double)ZstdMessageSetBytes / Events;

    public static WireSize Measure(string path, EventBatchWriterOptions options)
    {
        var records = Encode(path, options, out long events);
        var (raw, perRecord, perSet) = Sizes(records);
        return new WireSize(System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) + "/" + System.IO.Path.GetFileName(path),
            events, records.Count, raw, perRecord, perSet);
    }

    /// <summary>The trace's events as wire records; <paramref name="events"/> counts those the wire selection kept.</summary>
    public static List<byte[]> Encode(string path, EventBatchWriterOptions options, out long events)
    {
        var records = new List<byte[]>();
        events = 0;
        using var source = TraceOpener.Open(path);
        var writer = new EventBatchWriter(new HostRecordWriter("host-0001.example"), options) { Clock = source.Clock, CpuCount = source.CpuCount };
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

    /// <summary>Bytes raw, zstd level 3 per record, and zstd per message set of <see cref="RecordsPerMessageSet"/> records.</summary>
    public static (long Raw, long ZstdPerRecord, long ZstdPerMessageSet) Sizes(List<byte[]> records)
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
            // A message set: the records one after another, each with a length prefix, compressed as one.
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

    public override string ToString() =>
        $"{Trace}: {Events} events in {Records} records; raw {RawPerEvent:F2} B/event, zstd-3 per record {ZstdPerRecord:F2} B/event, per message set of {RecordsPerMessageSet} {ZstdMessageSet:F2} B/event";
}
