using System.Buffers.Binary;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>The page decoder on the commit word trace_pipe_raw really returns after losses (seen on this machine's 6.18 kernel).</summary>
public sealed class RingBufferLostFlagTests
{
    [Fact]
    public void Begin_SignExtendedMissedFlag_ReadsLengthAndLoss()
    {
        var page = new byte[4096];
        BinaryPrimitives.WriteUInt64LittleEndian(page, 12345);
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(8), 0xffff_ffff_8000_0ff0UL);
        var reader = new RingBufferPageReader(RingBufferPageLayout.For64BitKernel(4096));
        var header = reader.Begin(page);
        Assert.True(header.IsValid, header.Problem);
        Assert.True(header.EventsMissed);
        Assert.Equal(0xff0, header.DataLength);
        Assert.Equal(-1, header.MissedCount);
    }
}
