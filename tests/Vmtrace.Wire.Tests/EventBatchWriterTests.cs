using System.Buffers;
using Vmtrace.Decoding;

namespace Vmtrace.Wire.Tests;

public sealed class EventBatchWriterTests
{
    [Fact]
    public void Append_UninterpretedEventWithDropOption_SkippedAndCountedInTheBatch()
    {
        var source = ScriptedEvents.Mixed();
        var writer = new EventBatchWriter(new HostRecordWriter("h"), new EventBatchWriterOptions { DropUninterpretedEvents = true });
        int kept = 0;
        while (source.MoveNext())
            kept += writer.Append(source.Current) ? 1 : 0;
        Assert.Equal(8, kept);
        Assert.Equal(1, writer.SkippedEvents);
        var record = writer.Flush();
        Assert.Equal(1ul, Proto.HostRecord.Parser.ParseFrom(record).Events.SkippedEvents);
        var reader = new EventBatchReader();
        reader.Load(record);
        Assert.Equal(1, reader.SkippedEvents);
        Assert.Equal(8, reader.EventCount);
    }

    [Fact]
    public void Append_UninterpretedEventByDefault_KeptWithoutFields()
    {
        var source = ScriptedEvents.Mixed();
        var writer = new EventBatchWriter(new HostRecordWriter("h"));
        while (source.MoveNext())
            Assert.True(writer.Append(source.Current));
        var reader = new EventBatchReader();
        reader.Load(writer.Flush());
        var unknown = new List<(string Name, int Fields, int Tid)>();
        while (reader.MoveNext())
        {
            if (reader.Current.Known == KnownEvent.Unknown)
                unknown.Add((reader.Current.Type.Name, reader.Current.FieldCount, reader.Current.Tid));
        }
        Assert.Equal([("mm_page_alloc", 0, -1)], unknown);
    }

    [Fact]
    public void EventsByCpu_EveryAppendedEventCountedOnItsCpu_DroppedOnesToo_AcrossFlushes()
    {
        var type = ScriptedEvents.Unrelated;
        // CPU 200 is past the initial 64 CPUs: the counts grow to it and keep the earlier ones; -1 is "no CPU".
        var source = new ScriptedEvents().Add(type, 1, 0, 1).Add(type, 2, 1, 1).Add(type, 3, 1, 1).Add(type, 4, -1, 1).Add(type, 5, 200, 1).Add(type, 6, 0, 1);
        var writer = new EventBatchWriter(new HostRecordWriter("h"), new EventBatchWriterOptions { DropUninterpretedEvents = true });
        int n = 0;
        while (source.MoveNext())
        {
            writer.Append(source.Current);
            if (++n == 3)
                writer.Flush();
        }
        var counts = writer.EventsByCpu;
        Assert.Equal(6, writer.SkippedEvents); // mm_page_alloc is uninterpreted: dropped, and still read on its CPU
        Assert.Equal(1, counts[0]);
        Assert.Equal(2, counts[0 + 1]);
        Assert.Equal(2, counts[1 + 1]);
        Assert.Equal(1, counts[200 + 1]);
        Assert.Equal(6, counts.Sum());
    }

    [Fact]
    public void IsFull_EventsSpanTheMaximum_TrueAtTheEventThatReachesIt()
    {
        var type = ScriptedEvents.Unrelated;
        var source = new ScriptedEvents().Add(type, 1000, 0, 1).Add(type, 1500, 0, 1).Add(type, 2000, 0, 1);
        var writer = new EventBatchWriter(new HostRecordWriter("h"), new EventBatchWriterOptions { MaxSpanNs = 1000 });
        var full = new List<bool>();
        while (source.MoveNext())
        {
            writer.Append(source.Current);
            full.Add(writer.IsFull);
        }
        Assert.Equal([false, false, true], full);
    }

    [Fact]
    public void IsFull_MaxEventsReached_True()
    {
        var type = ScriptedEvents.Unrelated;
        var source = new ScriptedEvents().Add(type, 1, 0, 1).Add(type, 2, 0, 1);
        var writer = new EventBatchWriter(new HostRecordWriter("h"), new EventBatchWriterOptions { MaxEvents = 2 });
        source.MoveNext();
        writer.Append(source.Current);
        Assert.False(writer.IsFull);
        source.MoveNext();
        writer.Append(source.Current);
        Assert.True(writer.IsFull);
        writer.Flush();
        Assert.False(writer.IsFull);
        Assert.Equal(0, writer.EventCount);
    }

    [Fact]
    public void Flush_ToBufferWriter_SameBytesAsArray()
    {
        static EventBatchWriter Filled()
        {
            var source = ScriptedEvents.Mixed();
            var writer = new EventBatchWriter(new HostRecordWriter("h", "s", 3));
            while (source.MoveNext())
                writer.Append(source.Current);
            return writer;
        }
        var buffer = new ArrayBufferWriter<byte>();
        Filled().Flush(buffer);
        Assert.Equal(Filled().Flush(), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Records_OfOneHost_NumberedInOrderWhateverTheirKind()
    {
        var host = new HostRecordWriter("h");
        var writer = new EventBatchWriter(host);
        var records = new List<byte[]> { host.Inventory(new WireInventory([], [])), writer.Flush(), host.Heartbeat(10), writer.Flush() };
        Assert.Equal([0ul, 1ul, 2ul, 3ul], records.Select(r => HostRecord.Read(r).Sequence));
        Assert.Equal([HostRecordKind.Inventory, HostRecordKind.EventBatch, HostRecordKind.Heartbeat, HostRecordKind.EventBatch],
            records.Select(r => HostRecord.Read(r).Kind));
    }

    [Fact]
    public void Append_CpuOutOfRange_ThrowsNamingTheCpu()
    {
        var source = new ScriptedEvents().Add(ScriptedEvents.Unrelated, 1, 70_000, 1);
        source.MoveNext();
        var writer = new EventBatchWriter(new HostRecordWriter("h"));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(source.Current));
        Assert.Contains("event CPU 70000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SameTypesInManyBatches_OneEventTypePerDistinctType()
    {
        var cache = new WireTypeCache();
        var reader = new EventBatchReader(cache);
        var writer = new EventBatchWriter(new HostRecordWriter("h"));
        var seen = new HashSet<EventType>();
        for (int batch = 0; batch < 3; batch++)
        {
            var source = ScriptedEvents.Mixed();
            while (source.MoveNext())
                writer.Append(source.Current);
            reader.Load(writer.Flush());
            while (reader.MoveNext())
                seen.Add(reader.Current.Type);
        }
        Assert.Equal(5, seen.Count);
        Assert.Equal(5, cache.Count);
    }
}
