using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// No allocation per event: measured with the thread's allocation counter over a whole real trace, in
/// steady state. A first pass over the trace warms the writer (or reader) up: each event type's plan and
/// its column buffers are made and grow to a full batch's size once, in the first batches (about 0.5 MB for
/// s3-disk-vs-cpu, all within its first 50 000 events); the second, measured pass must allocate nothing per event.
/// </summary>
public sealed class AllocationTests
{
    [CorpusTheory]
    [InlineData("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz")]
    [InlineData("hip24-kvm-host-2vms-46s/host.trace.dat")]
    public void Append_WholeTraceAfterWarmUp_LessThanATenthOfAByteAllocatedPerEvent(string trace)
    {
        var writer = new EventBatchWriter(new HostRecordWriter("h"));
        EncodeAll(trace, writer, out _);
        var (allocated, events) = EncodeAll(trace, writer, out _);
        Assert.True(events > 100_000, $"{trace}: {events} events");
        double perEvent = (double)allocated / events;
        Assert.True(perEvent < 0.1, $"{trace}: writer allocated {allocated} B over {events} events = {perEvent:F4} B/event");
    }

    [CorpusTheory]
    [InlineData("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz")]
    [InlineData("hip24-kvm-host-2vms-46s/host.trace.dat")]
    public void MoveNext_WholeTraceAfterWarmUp_LessThanATenthOfAByteAllocatedPerEvent(string trace)
    {
        EncodeAll(trace, new EventBatchWriter(new HostRecordWriter("h")), out var records);
        var reader = new EventBatchReader();
        DecodeAll(records, reader);
        var (allocated, events) = DecodeAll(records, reader);
        Assert.True(events > 100_000);
        double perEvent = (double)allocated / events;
        Assert.True(perEvent < 0.1, $"{trace}: reader allocated {allocated} B over {events} events = {perEvent:F4} B/event");
    }

    [CorpusTheory]
    [InlineData("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz")]
    [InlineData("hip24-kvm-host-2vms-46s/host.trace.dat")]
    public void Validate_WholeTraceAfterWarmUp_LessThanATenthOfAByteAllocatedPerEvent(string trace)
    {
        EncodeAll(trace, new EventBatchWriter(new HostRecordWriter("h")), out var records);
        var reader = new EventBatchReader();
        ValidateAll(records, reader);
        var (allocated, events) = ValidateAll(records, reader);
        Assert.True(events > 100_000);
        Assert.Equal(0, reader.SlowValidations);
        double perEvent = (double)allocated / events;
        Assert.True(perEvent < 0.1, $"{trace}: Validate allocated {allocated} B over {events} events = {perEvent:F4} B/event");
    }

    /// <summary>Bytes allocated in <see cref="EventBatchReader.Validate"/> (not in Load, once per record).</summary>
    private static (long Allocated, long Events) ValidateAll(List<byte[]> records, EventBatchReader reader)
    {
        long allocated = 0, events = 0;
        foreach (var record in records)
        {
            reader.Load(record);
            long before = GC.GetAllocatedBytesForCurrentThread();
            reader.Validate();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            events += reader.EventCount;
        }
        return (allocated, events);
    }

    /// <summary>Bytes allocated inside <see cref="EventBatchWriter.Append(in Vmtrace.Decoding.TraceEvent)"/> only (not the decoder's, not the flushed records).</summary>
    private static (long Allocated, long Events) EncodeAll(string trace, EventBatchWriter writer, out List<byte[]> records)
    {
        records = [];
        using var source = TraceOpener.Open(Corpus.Path(trace));
        long allocated = 0, events = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            long before = GC.GetAllocatedBytesForCurrentThread();
            writer.Append(e);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            events++;
            if (writer.IsFull)
                records.Add(writer.Flush());
        }
        records.Add(writer.Flush());
        return (allocated, events);
    }

    /// <summary>Bytes allocated while pulling events (not in <see cref="EventBatchReader.Load(byte[])"/>, once per record).</summary>
    private static (long Allocated, long Events) DecodeAll(List<byte[]> records, EventBatchReader reader)
    {
        long allocated = 0, events = 0, checksum = 0;
        foreach (var record in records)
        {
            reader.Load(record);
            long before = GC.GetAllocatedBytesForCurrentThread();
            while (reader.MoveNext())
            {
                var e = reader.Current;
                checksum += e.Timestamp + e.Tid + e.FieldCount;
                events++;
            }
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.NotEqual(0, checksum);
        return (allocated, events);
    }
}
