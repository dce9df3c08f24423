using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

public class RingBufferPageReaderTests
{
    private static readonly byte[] Payload8 = [1, 2, 3, 4, 5, 6, 7, 8];

    private static List<(ulong Ts, byte[] Payload)> ReadAll(RingBufferPageBuilder builder, byte[] page, out RingBufferRecordKind last, out RingBufferPageReader reader)
    {
        reader = new RingBufferPageReader(builder.Layout);
        var header = reader.Begin(page);
        Assert.True(header.IsValid, header.Problem);
        var events = new List<(ulong, byte[])>();
        while ((last = reader.Next(page, out int offset, out int length)) == RingBufferRecordKind.Event)
            events.Add((reader.Timestamp, page.AsSpan(offset, length).ToArray()));
        return events;
    }

    private static void AssertEvent(ulong ts, byte[] payload, (ulong Ts, byte[] Payload) actual)
    {
        Assert.Equal(ts, actual.Ts);
        Assert.Equal(payload, actual.Payload);
    }

    [Fact]
    public void Next_ShortEvents_ReturnPayloadsAndAddDeltasToPageTimestamp()
    {
        var b = new RingBufferPageBuilder().Timestamp(1_000).Event(5, Payload8).Event(7, [9, 9, 9, 9]);

        var events = ReadAll(b, b.Build(), out var last, out _);

        Assert.Equal(RingBufferRecordKind.End, last);
        Assert.Equal(2, events.Count);
        AssertEvent(1_005, Payload8, events[0]);
        AssertEvent(1_012, [9, 9, 9, 9], events[1]);
    }

    [Fact]
    public void Next_TimeExtend_AddsBitsAbove27ToTheNextDelta()
    {
        ulong extend = (3UL << 27) + 11; // more than time_delta's 27 bits can hold
        var b = new RingBufferPageBuilder().Timestamp(100).TimeExtend(extend).Event(2, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        Assert.Equal(100UL + extend + 2, Assert.Single(events).Ts);
    }

    [Fact]
    public void Next_AbsoluteTimestamp_ReplacesTheRunningTime()
    {
        ulong absolute = (1UL << 40) + 12345;
        var b = new RingBufferPageBuilder().Timestamp(100).Event(1, Payload8).AbsoluteTime(absolute).Event(3, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        Assert.Equal([101UL, absolute + 3], events.Select(e => e.Ts));
    }

    [Fact]
    public void Next_AbsoluteTimestamp_KeepsTopBitsOfTheRunningTime()
    {
        // Absolute stamps store 59 bits; the kernel takes bits 59..63 from the running stamp.
        ulong page = (1UL << 59) + 500;
        var b = new RingBufferPageBuilder().Timestamp(page).AbsoluteTime(900).Event(0, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        Assert.Equal((1UL << 59) + 900, Assert.Single(events).Ts);
    }

    [Fact]
    public void Next_Padding_IsSkippedAndItsDeltaCounts()
    {
        var b = new RingBufferPageBuilder().Timestamp(0).Padding(4, 24).Event(6, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        AssertEvent(10, Payload8, Assert.Single(events));
    }

    [Fact]
    public void Next_NullPaddingWithZeroDelta_EndsThePage()
    {
        var b = new RingBufferPageBuilder().Event(1, Payload8).Word(29).Word(0).Event(1, Payload8);

        var events = ReadAll(b, b.Build(), out var last, out _);

        Assert.Single(events);
        Assert.Equal(RingBufferRecordKind.End, last);
    }

    [Fact]
    public void Next_TypeLenZeroLongEvent_TakesLengthFromNextWord()
    {
        var big = Enumerable.Range(0, 150).Select(i => (byte)i).ToArray(); // above the 112-byte short form
        var b = new RingBufferPageBuilder().Timestamp(50).LongEvent(1, big).Event(2, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        Assert.Equal(2, events.Count);
        Assert.Equal(big, events[0].Payload);
        AssertEvent(53, Payload8, events[1]);
    }

    [Fact]
    public void Begin_NoLossFlags_ReportsNothingMissed()
    {
        var b = new RingBufferPageBuilder().Event(1, Payload8);

        var header = new RingBufferPageReader(b.Layout).Begin(b.Build());

        Assert.False(header.EventsMissed);
        Assert.Equal(0, header.MissedCount);
        Assert.Equal(8 + 4, header.DataLength);
    }

    [Fact]
    public void Begin_MissedFlagWithStoredCount_ReportsTheCountAfterTheData()
    {
        var b = new RingBufferPageBuilder().Missed(storedCount: 4242).Event(1, Payload8);
        var page = b.Build();

        var reader = new RingBufferPageReader(b.Layout);
        var header = reader.Begin(page);

        Assert.True(header.EventsMissed);
        Assert.Equal(4242, header.MissedCount);
        Assert.Equal(RingBufferRecordKind.Event, reader.Next(page, out _, out _));
        Assert.Equal(RingBufferRecordKind.End, reader.Next(page, out _, out _)); // the stored count is not read as a record
    }

    [Fact]
    public void Begin_MissedFlagWithoutCount_ReportsUnknownCount()
    {
        var b = new RingBufferPageBuilder().Missed(storedCount: null).Event(1, Payload8);

        var header = new RingBufferPageReader(b.Layout).Begin(b.Build());

        Assert.True(header.EventsMissed);
        Assert.Equal(-1, header.MissedCount);
    }

    [Fact]
    public void Begin_CommitBeyondThePage_IsInvalid()
    {
        var b = new RingBufferPageBuilder().Event(1, Payload8);

        var header = new RingBufferPageReader(b.Layout).Begin(b.Build(commitOverride: 5000));

        Assert.False(header.IsValid);
        Assert.Contains("5000", header.Problem);
    }

    [Fact]
    public void Next_EventLongerThanTheCommittedData_IsCorruptAtItsOffset()
    {
        var b = new RingBufferPageBuilder().Event(1, Payload8).Word((20u << 5) | 28); // 112 bytes claimed, none there
        var page = b.Build();

        var events = ReadAll(b, page, out var last, out var reader);

        Assert.Single(events);
        Assert.Equal(RingBufferRecordKind.Corrupt, last);
        Assert.Equal(b.DataOffset + 12, reader.Position);
        Assert.NotNull(reader.Problem);
    }

    [Fact]
    public void Next_LongEventLengthBeyondThePage_IsCorrupt()
    {
        var b = new RingBufferPageBuilder().Word(1u << 5).Word(100_000);

        ReadAll(b, b.Build(), out var last, out _);

        Assert.Equal(RingBufferRecordKind.Corrupt, last);
    }

    [Fact]
    public void Next_FourByteCommitOfA32BitKernel_ReadsDataAtOffset12()
    {
        var b = new RingBufferPageBuilder(commitSize: 4).Timestamp(7).Missed(storedCount: 3).Event(1, Payload8);
        var page = b.Build();

        var reader = new RingBufferPageReader(b.Layout);
        var header = reader.Begin(page);

        Assert.Equal(3, header.MissedCount);
        Assert.Equal(RingBufferRecordKind.Event, reader.Next(page, out int offset, out _));
        Assert.Equal(12 + 4, offset);
        Assert.Equal(8UL, reader.Timestamp);
    }

    [Fact]
    public void Next_BigEndianPage_DecodesTypeLenFromTheHighBits()
    {
        var b = new RingBufferPageBuilder(bigEndian: true).Timestamp(1000).TimeExtend(1UL << 28).Event(3, Payload8);

        var events = ReadAll(b, b.Build(), out _, out _);

        AssertEvent(1000UL + (1UL << 28) + 3, Payload8, Assert.Single(events));
    }
}
