using Vmtrace.Decoding.Ctf;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Decoding allocates nothing per event: a property of the reader, not a timing.</summary>
public class CtfAllocationTests
{
    [CorpusFact]
    public void MoveNext_FullReadOfManyThreads_AllocatesUnderATenthOfABytePerEvent()
    {
        using var source = CtfTraceSource.Open(Corpus.Path("tracecompass-test-traces-ctf/many-threads"));
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
}
