using Vmtrace.Decoding.Ctf;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Decoding allocates nothing per event: a property of the reader, not a timing.</summary>
public class CtfAllocationTests
{
    [CorpusFact]
    public void MoveNext_FullReadOfManyThreads_AllocatesUnderATenthOfABytePerEvent()
    {
        // Decoders are normally built when an event class first appears (a bounded cost per class, not per
        // event); building them all up front leaves only the per-event path to measure.
        using var source = CtfTraceSource.OpenTrace(Corpus.Path("tracecompass-test-traces-ctf/many-threads"), buildAllEventClasses: true);
        // The first event sizes every buffer; what follows is the steady state.
        Assert.True(source.MoveNext());
        long events = 0;
        long checksum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (source.MoveNext())
        {
            var e = source.Current;
            events++;
            checksum += e.Timestamp + e.Cpu + (e.FieldCount > 0 ? e.GetInt64(0) : 0);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(240_643, events);
        Assert.NotEqual(0, checksum);
        Assert.True(allocated < events / 10, $"{allocated} bytes allocated over {events} events ({(double)allocated / events:F3} B/event)");
    }

    [CorpusFact]
    public void MoveNext_SecondHalfOfManyThreadsWithLazyDecoders_AllocatesOnlyForNewEventClasses()
    {
        using var source = CtfTraceSource.Open(Corpus.Path("tracecompass-test-traces-ctf/many-threads"));
        var seen = new HashSet<string>();
        for (int i = 0; i < 120_000 && source.MoveNext(); i++)
            seen.Add(source.Current.Type.Name);
        long events = 0;
        int newClasses = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (source.MoveNext())
        {
            events++;
            if (!seen.Contains(source.Current.Type.Name))
            {
                newClasses++;
                seen.Add(source.Current.Type.Name);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(events > 100_000);
        // Building one event class's decoder costs a few kilobytes; nothing else may allocate.
        Assert.True(allocated < 16_384 * (newClasses + 1), $"{allocated} bytes over {events} events with {newClasses} new event classes");
    }
}
