using Vmtrace.TestSupport;
using Vmtrace.TestSupport.Wire;
using Xunit.Abstractions;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// Bytes per event on the wire for every real trace, raw and compressed with zstd level 3 as librdkafka's
/// producer does (per record, and per message set of 4 records). The target is at most 8 bytes per event.
/// </summary>
public sealed class WireSizeTests(ITestOutputHelper output)
{
    [CorpusTheory]
    [MemberData(nameof(WireCorpus.All), MemberType = typeof(WireCorpus))]
    public void Encode_RealTrace_AtMostEightBytesPerEventCompressed(string trace)
    {
        var size = WireSize.Measure(Corpus.Path(trace), new EventBatchWriterOptions());
        output.WriteLine(size.ToString());
        Assert.True(size.Events > 0);
        // A few dozen events (qemu-vmA.log: 5, the XML stub: 22) are dominated by the batch's type and string
        // tables; the target is for real volumes.
        if (size.Events >= 1000)
        {
            Assert.True(size.ZstdPerRecord <= 8.0, $"{trace}: {size}");
            Assert.True(size.ZstdMessageSet <= 8.0, $"{trace}: {size}");
        }
    }
}
