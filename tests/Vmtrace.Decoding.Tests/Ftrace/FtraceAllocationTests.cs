using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;
using Xunit.Abstractions;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>Decoding allocates nothing per event once warmed up (a property of the code, not a timing).</summary>
public class FtraceAllocationTests(ITestOutputHelper output)
{
    private const int WarmUpEvents = 20_000;

    private static (long Events, long Bytes) MeasureSteadyState(string path)
    {
        using var source = FtraceFileSource.OpenTraceDat(path);
        long checksum = 0;
        for (int i = 0; i < WarmUpEvents && source.MoveNext(); i++)
            checksum += source.Current.Timestamp;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long events = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            checksum += e.Timestamp + e.Tid + e.FieldCount;
            events++;
        }
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(checksum);
        return (events, bytes);
    }

    [CorpusFact]
    public void MoveNext_UncompressedV6Trace_AllocatesUnderATenthOfABytePerEvent()
    {
        var (events, bytes) = MeasureSteadyState(FtraceReading.UnpackedTcgTrace("s2-cpu-contention"));

        output.WriteLine($"{bytes} bytes over {events} events = {(double)bytes / events:F4} B/event");
        Assert.True(events > 200_000);
        Assert.True((double)bytes / events < 0.1, $"{bytes} bytes allocated over {events} events");
    }

    [CorpusFact]
    public void MoveNext_ZlibV7Trace_AllocatesOnlyPerCompressedChunk()
    {
        // zlib has no reusable span decoder in .NET: one ZLibStream per chunk of ~10 pages, nothing per event.
        var (events, bytes) = MeasureSteadyState(Corpus.Path("hip24-kvm-host-2vms-46s/host.trace.dat"));

        output.WriteLine($"{bytes} bytes over {events} events = {(double)bytes / events:F4} B/event");
        Assert.True(events > 200_000);
        Assert.True((double)bytes / events < 2, $"{bytes} bytes allocated over {events} events");
    }
}
