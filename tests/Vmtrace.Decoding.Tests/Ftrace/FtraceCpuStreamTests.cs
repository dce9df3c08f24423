using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>
/// The per-CPU decoder shared by trace.dat files and live <c>trace_pipe_raw</c>, over pages handed out as a live
/// reader gets them: sometimes none yet, then one, then a page whose header says events were lost.
/// </summary>
public class FtraceCpuStreamTests
{
    // Type id 0x0201 (no format known: an unknown event), then 2 bytes, then the pid 77.
    private static readonly byte[] Payload = [1, 2, 0, 0, 77, 0, 0, 0];

    /// <summary>Pages queued by the test; none available is a live reader's empty buffer.</summary>
    private sealed class QueuedPages : RingBufferPageSource
    {
        private readonly Queue<byte[]> _pages = new();

        public void Add(byte[] page) => _pages.Enqueue(page);

        public override bool MoveNextPage()
        {
            if (!_pages.TryDequeue(out var page))
                return false;
            Buffer = page;
            PageStart = 0;
            PageLength = page.Length;
            return true;
        }

        public override (long Offset, string Note) Locate(int pageOffset) => (pageOffset, "");
    }

    private static (FtraceCpuStream Stream, QueuedPages Pages, SourceDiagnostics Diagnostics) Stream(RingBufferPageLayout layout, long offsetNs)
    {
        var pages = new QueuedPages();
        var diagnostics = new SourceDiagnostics();
        var unknown = new EventType("ftrace_unknown_event", [new FieldDescriptor("type_id", FieldKind.Unsigned)], "ftrace");
        var stream = new FtraceCpuStream(3, pages, layout, new FtraceDecoderTable([], false, 8), EventType.CreateLostEvents(), unknown,
            new FtraceTimestampConverter(null, null, offsetNs), diagnostics, "cpu3");
        return (stream, pages, diagnostics);
    }

    [Fact]
    public void MoveNext_NoPageYet_FalseThenTheNextPagesEventsOnceOneComes()
    {
        var first = new RingBufferPageBuilder().Timestamp(1_000).Event(5, Payload).Event(2, Payload);
        var (stream, pages, diagnostics) = Stream(first.Layout, offsetNs: 1_000_000);

        Assert.False(stream.MoveNext()); // nothing read yet
        pages.Add(first.Build());
        Assert.True(stream.MoveNext());
        // Page time 1,000 + delta 5, shifted by the 1,000,000 ns offset (live: realtime − instance clock).
        Assert.Equal(1_001_005, stream.Timestamp);
        Assert.Equal(3, stream.Current.Cpu);
        Assert.Equal(77, stream.Current.Tid);
        Assert.True(stream.MoveNext());
        Assert.Equal(1_001_007, stream.Timestamp);
        Assert.False(stream.MoveNext()); // the page is done and no other came
        Assert.False(stream.MoveNext());
        Assert.Equal(1, stream.PagesRead);
        Assert.True(diagnostics.IsClean);
    }

    [Fact]
    public void MoveNext_PageAfterLosses_OneLostEventsEventWithTheStoredCount_CountedOnce()
    {
        var first = new RingBufferPageBuilder().Timestamp(1_000).Event(5, Payload);
        var (stream, pages, diagnostics) = Stream(first.Layout, offsetNs: 0);
        pages.Add(first.Build());
        Assert.True(stream.MoveNext());
        Assert.False(stream.MoveNext());

        pages.Add(new RingBufferPageBuilder().Timestamp(2_000).Missed(42).Event(1, Payload).Build());
        Assert.True(stream.MoveNext());
        Assert.Equal(KnownEvent.LostEvents, stream.Current.Known);
        Assert.Equal(42, stream.Current.GetInt64(0));
        Assert.Equal(2_000, stream.Timestamp); // the loss is stamped with the page's time
        Assert.True(stream.MoveNext());
        Assert.Equal(2_001, stream.Timestamp);
        Assert.Equal(42, diagnostics.LostEvents);
        Assert.Equal(0, diagnostics.OutOfOrderEvents);
        Assert.Equal(2, stream.PagesRead);
    }
}
