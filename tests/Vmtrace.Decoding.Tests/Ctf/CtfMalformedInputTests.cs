using Vmtrace.Decoding.Ctf;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Hand-made malformed traces: bad event ids, absurd lengths, broken metadata.</summary>
public class CtfMalformedInputTests
{
    private const string Events = """
        event { name = "tick"; id = 1; stream_id = 0; fields := struct { uint32_t _n; }; };
        event { name = "blob"; id = 2; stream_id = 0; fields := struct { uint32_t _len; uint8_t _data[_len]; }; };
        """;

    private static (List<long> Values, SourceDiagnostics Diagnostics) Read(string directory)
    {
        using var source = CtfTraceSource.Open(directory);
        var values = new List<long>();
        while (source.MoveNext())
            values.Add(source.Current.GetInt64(0));
        return (values, source.Diagnostics);
    }

    [Fact]
    public void Read_UnknownEventId_ReportsOffsetAndReadsNextPacket()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, Events));
        byte[] first = t.Packet(0, 100, w =>
        {
            t.Compact(w, 1, 10).Int(1, 32);
            t.Compact(w, 9, 20).Int(2, 32); // no event class 9
            t.Compact(w, 1, 30).Int(3, 32);
        }, packetBytes: 512);
        t.WriteStream("chan_0", first, t.Packet(100, 200, w => t.Compact(w, 1, 110).Int(4, 32), sequence: 1, packetBytes: 512));

        var (values, diagnostics) = Read(t.Directory);

        Assert.Equal([1L, 4L], values);
        var error = Assert.Single(diagnostics.Errors);
        Assert.EndsWith("chan_0", error.File, StringComparison.Ordinal);
        // Header 8 bytes + context 52 bytes = 60, first event 8 bytes: the bad header starts at 68 and is read whole.
        Assert.Equal(72, error.Offset);
        Assert.Contains("unknown event id 9", error.Message, StringComparison.Ordinal);
        Assert.Equal(512 - 72, diagnostics.SkippedBytes);
    }

    [Fact]
    public void Read_AbsurdSequenceLength_ReportsWithoutAllocatingAndGoesOn()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, Events));
        t.WriteStream("chan_0",
            t.Packet(0, 100, w =>
            {
                t.Compact(w, 2, 10).Int(3, 32).Int(7, 8).Int(8, 8).Int(9, 8);
                t.Compact(w, 2, 20).Int(uint.MaxValue, 32);
            }),
            t.Packet(100, 200, w => t.Compact(w, 1, 110).Int(4, 32), sequence: 1));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var (values, diagnostics) = Read(t.Directory);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([3L, 4L], values);
        var error = Assert.Single(diagnostics.Errors);
        Assert.Contains("length 4294967295 does not fit", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 4_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Read_EmptyAndHeaderOnlyStreamFiles_GiveNoEventsAndNoErrors()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, Events));
        t.WriteStream("chan_0");
        t.WriteStream("chan_1", t.Packet(0, 0, _ => { }));

        var (values, diagnostics) = Read(t.Directory);

        Assert.Empty(values);
        Assert.True(diagnostics.IsClean);
    }

    [Fact]
    public void Read_GarbageAfterLastPacket_ReportedAsSkippedBytes()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, Events));
        var packet = t.Packet(0, 100, w => t.Compact(w, 1, 10).Int(1, 32), packetBytes: 256);
        t.WriteStream("chan_0", packet, [1, 2, 3, 4, 5, 6, 7]);

        var (values, diagnostics) = Read(t.Directory);

        Assert.Equal([1L], values);
        Assert.Equal(7, diagnostics.SkippedBytes);
        var error = Assert.Single(diagnostics.Errors);
        Assert.Equal(256, error.Offset);
        Assert.Contains("packet header or context cut short", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trace { major = 1; byte_order = le; ", "line 1: unterminated trace block")]
    [InlineData("trace { major = 1; };\nevent { name = \"x\"; fields := struct { uint99_t _a; }; };", "line 2: unknown type 'uint99_t'")]
    [InlineData("typealias integer { size = 65; } := big;", "integer size 65 is not 1..64")]
    [InlineData("trace { major = 1; };\n\n  @", "line 3: unexpected character")]
    [InlineData("typealias integer { size = 8; align = 3; } := odd;", "alignment 3 is not a power of two")]
    [InlineData("typealias struct { } align(0) := empty;", "struct alignment 0 is not a power of two")]
    [InlineData("typealias floating_point { exp_dig = 8; mant_dig = 24; align = 12; } := f;", "floating_point alignment 12 is not a power of two")]
    public void Parse_BadTsdl_ThrowsWithFileAndLine(string tsdl, string expected)
    {
        var ex = Assert.Throws<TraceFormatException>(() => CtfMetadata.Parse(tsdl, "/x/metadata"));
        Assert.Equal("/x/metadata", ex.File);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EventsOfZeroBits_ReportedInsteadOfRepeatingForever()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata("""
            /* CTF 1.8 */
            trace { major = 1; minor = 8; byte_order = le; };
            event { name = "nothing"; fields := struct { }; };
            """);
        t.WriteStream("stream", [1, 2, 3, 4]);

        using var source = CtfTraceSource.Open(t.Directory);
        Assert.False(source.MoveNext());
        var error = Assert.Single(source.Diagnostics.Errors);
        Assert.Contains("event of zero bits", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, source.Diagnostics.SkippedBytes);
    }

    [Fact]
    public void Parse_HostileNesting_FailsCleanlyInsteadOfOverflowingTheStack()
    {
        var tsdl = "typealias " + string.Concat(Enumerable.Repeat("struct { ", 100_000)) + "} := deep;";

        var ex = Assert.Throws<TraceFormatException>(() => CtfMetadata.Parse(tsdl, "/x/metadata"));

        Assert.Contains("nested deeper than 64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MetadataCutInsideLastEventBlock_ReadsDataAndReportsTheCut()
    {
        using var t = new TestCtfTrace();
        var tsdl = TestCtfTrace.Metadata(false, Events + "\nevent { name = \"late\"; id = 3; fields := struct { uint32_t");
        t.WriteMetadata(tsdl);
        t.WriteStream("chan_0", t.Packet(0, 100, w => t.Compact(w, 1, 10).Int(1, 32)));

        var (values, diagnostics) = Read(t.Directory);

        Assert.Equal([1L], values);
        var error = Assert.Single(diagnostics.Errors);
        Assert.Equal(Path.Combine(t.Directory, "metadata"), error.File);
        Assert.Contains("metadata ends inside a declaration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EventClassWithUndeclaredSequenceLength_ReportsMetadataFileAndClass()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, Events + """
            event { name = "bad"; id = 3; fields := struct { uint8_t _data[_nowhere]; }; };
            """));
        t.WriteStream("chan_0",
            t.Packet(0, 100, w => t.Compact(w, 1, 10).Int(1, 32).Align(8).Int(3, 5).Int(20, 27)),
            t.Packet(100, 200, w => t.Compact(w, 1, 110).Int(2, 32), sequence: 1));

        var (values, diagnostics) = Read(t.Directory);

        // Event classes are built on first use, so the metadata problem shows where the class is first met.
        Assert.Equal([1L, 2L], values);
        var error = Assert.Single(diagnostics.Errors);
        Assert.Equal(Path.Combine(t.Directory, "metadata"), error.File);
        Assert.Contains("event class bad (id 3): sequence _data: length field '_nowhere' not found", error.Message, StringComparison.Ordinal);
    }
}
