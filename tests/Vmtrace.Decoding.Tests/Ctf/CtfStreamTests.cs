using Vmtrace.Decoding.Ctf;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Event headers, clock wrap-around, lost events and packets, and merging of streams.</summary>
public class CtfStreamTests
{
    private const string TickEvents = """
        event { name = "tick"; id = 1; stream_id = 0; fields := struct { uint32_t _n; }; };
        event { name = "far_tick"; id = 40; stream_id = 0; fields := struct { uint32_t _n; }; };
        """;

    private static List<(long Timestamp, string Name, long N, int Cpu)> ReadAll(string directory, out SourceDiagnostics diagnostics)
    {
        using var source = CtfTraceSource.Open(directory);
        var events = new List<(long, string, long, int)>();
        while (source.MoveNext())
        {
            var e = source.Current;
            events.Add((e.Timestamp, e.Type.Name, e.GetInt64(0), e.Cpu));
        }
        diagnostics = source.Diagnostics;
        return events;
    }

    [Fact]
    public void Read_CompactTimestampLowBitsDecrease_WrapsByTwoToThe27()
    {
        const ulong Wrap = 1UL << 27;
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents));
        ulong begin = 5 * Wrap + Wrap - 100;
        t.WriteStream("chan_0", t.Packet(begin, begin + 1000, w =>
        {
            t.Compact(w, 1, begin + 10).Int(1, 32);         // low bits grow: same high part
            t.Compact(w, 1, begin + 150).Int(2, 32);        // low bits 50 < previous: wrapped
            t.Compact(w, 1, begin + 150).Int(3, 32);        // EQUAL low bits: same time, no wrap
            t.Compact(w, 1, begin + 151).Int(4, 32);
        }));

        var events = ReadAll(t.Directory, out var diagnostics);

        Assert.Equal([(long)begin + 10, (long)begin + 150, (long)begin + 150, (long)begin + 151], events.Select(e => e.Timestamp));
        Assert.Equal(0, diagnostics.OutOfOrderEvents);
    }

    [Fact]
    public void Read_FirstCompactTimestampEqualToPacketBegin_DoesNotJump()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents));
        const ulong Begin = 0x12345678_9ABCDEF0;
        t.WriteStream("chan_0", t.Packet(Begin, Begin + 10, w => t.Compact(w, 1, Begin).Int(1, 32)));

        var events = ReadAll(t.Directory, out _);

        Assert.Equal((long)Begin, Assert.Single(events).Timestamp);
    }

    [Fact]
    public void Read_ExtendedHeader_GivesFullIdAndTimestampThenCompactContinuesFromIt()
    {
        using var t = new TestCtfTrace(bigEndian: true);
        t.WriteMetadata(TestCtfTrace.Metadata(true, TickEvents));
        const ulong Jump = 3_000_000_000_000;
        t.WriteStream("chan_0", t.Packet(1000, Jump + 100, w =>
        {
            t.Compact(w, 1, 1010).Int(1, 32, true);
            t.Extended(w, 40, Jump).Int(2, 32, true);   // id 40 does not fit in 5 bits
            t.Compact(w, 1, Jump + 7).Int(3, 32, true);
        }));

        var events = ReadAll(t.Directory, out var diagnostics);

        Assert.Equal([(1010L, "tick", 1L, 0), ((long)Jump, "far_tick", 2L, 0), ((long)Jump + 7, "tick", 3L, 0)], events);
        Assert.True(diagnostics.IsClean);
    }

    [Fact]
    public void Read_EventsDiscardedGrowsAndSequenceGap_EmitsLostEventsAndCountsLostPackets()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents));
        t.WriteStream("chan_0",
            t.Packet(100, 200, w => t.Compact(w, 1, 150).Int(1, 32), sequence: 0, discarded: 0, cpu: 2),
            t.Packet(300, 400, w => t.Compact(w, 1, 350).Int(2, 32), sequence: 1, discarded: 5, cpu: 2),
            // Packets 2 and 3 are missing; the counter is cumulative, so 5 -> 12 is 7 more lost.
            t.Packet(500, 600, w => t.Compact(w, 1, 550).Int(3, 32), sequence: 4, discarded: 12, cpu: 2));

        var events = ReadAll(t.Directory, out var diagnostics);

        Assert.Equal(
            [(150L, "tick", 1L, 2), (300L, EventCatalog.LostEventsName, 5L, 2), (350L, "tick", 2L, 2),
             (500L, EventCatalog.LostEventsName, 7L, 2), (550L, "tick", 3L, 2)],
            events);
        Assert.Equal(12, diagnostics.LostEvents);
        Assert.Equal(2, diagnostics.LossReports);
        Assert.Equal(2, diagnostics.LostPackets);
        Assert.Equal(0, diagnostics.ErrorCount);
    }

    [Fact]
    public void Read_SeveralStreams_MergedByTimestampWithTiesInFileOrder()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents));
        t.WriteStream("chan_0",
            t.Packet(0, 100, w =>
            {
                t.Compact(w, 1, 10).Int(1, 32);
                t.Compact(w, 1, 30).Int(3, 32);
                t.Compact(w, 1, 50).Int(5, 32);
            }, cpu: 0),
            t.Packet(100, 200, w => t.Compact(w, 1, 120).Int(8, 32), sequence: 1, cpu: 0));
        t.WriteStream("chan_1", t.Packet(0, 200, w =>
        {
            t.Compact(w, 1, 20).Int(2, 32);
            t.Compact(w, 1, 30).Int(4, 32);
            t.Compact(w, 1, 60).Int(6, 32);
            t.Compact(w, 1, 110).Int(7, 32);
        }, cpu: 1));

        var events = ReadAll(t.Directory, out _);

        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], events.Select(e => e.N));
        Assert.Equal([0, 1, 0, 1, 0, 1, 1, 0], events.Select(e => e.Cpu));
        using var source = CtfTraceSource.Open(t.Directory);
        Assert.Equal(TraceClockKind.Unknown, source.Clock);
        Assert.Equal(2, source.CpuCount); // known from the first packets, before any event is read
        while (source.MoveNext())
        {
        }
        Assert.Equal(2, source.CpuCount);
        Assert.Equal(1.0, source.Progress);
    }

    [Fact]
    public void Read_TimestampGoingBackAcrossPackets_DeliveredAndCountedOutOfOrder()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents));
        t.WriteStream("chan_0",
            t.Packet(100, 200, w => t.Compact(w, 1, 190).Int(1, 32)),
            t.Packet(180, 300, w => t.Compact(w, 1, 185).Int(2, 32), sequence: 1));

        var events = ReadAll(t.Directory, out var diagnostics);

        Assert.Equal([190L, 185L], events.Select(e => e.Timestamp));
        Assert.Equal(1, diagnostics.OutOfOrderEvents);
        Assert.Equal(0, diagnostics.ErrorCount);
    }

    [Fact]
    public void Read_ClockWithEpochOffset_ReportsRealtime()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, TickEvents, clockOffset: 1_457_111_225_177_515_989));
        t.WriteStream("chan_0", t.Packet(0, 10, w => t.Compact(w, 1, 4).Int(1, 32)));

        using var source = CtfTraceSource.Open(t.Directory);
        Assert.Equal(TraceClockKind.Realtime, source.Clock);
        Assert.True(source.MoveNext());
        Assert.Equal(1_457_111_225_177_515_993, source.Current.Timestamp);
    }
}
