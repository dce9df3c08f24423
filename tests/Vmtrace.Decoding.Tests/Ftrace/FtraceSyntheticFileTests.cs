using Vmtrace.Decoding.Archives;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>Hand-written trace.dat files: byte order, buffer instances, options, lost-event counts, unknown ids.</summary>
public sealed class FtraceSyntheticFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static List<string> ReadLines(FtraceFileSource source)
    {
        var lines = new List<string>();
        while (source.MoveNext())
        {
            var e = source.Current;
            string fields = e.Known == KnownEvent.LostEvents || e.Type.Name == "ftrace_unknown_event"
                ? e.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : $"{e.GetInt64(0)} {e.GetInt64(1)}";
            lines.Add($"{e.Timestamp} {e.Cpu} {e.Tid} {e.Type.Name} {fields}");
        }
        return lines;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_TopAndInstanceBuffers_MergedByTimeInEitherByteOrder(bool bigEndian)
    {
        var dat = new SyntheticTraceDat(bigEndian);
        var top = dat.Page().Timestamp(1_000).Event(10, dat.Payload(100, 7, -5)).Event(20, dat.Payload(100, 8, long.MinValue)).Build();
        var instance = dat.Page().Timestamp(1_015).Event(0, dat.Payload(200, 9, 1)).Build();
        string path = Path.Combine(_temp.Path, "t.dat");
        dat.Write(path, [top], [instance], clock: "mono", offset: "1000");

        using var source = FtraceFileSource.OpenTraceDat(path);

        // OFFSET adds 1000 ns to every timestamp; the instance's event falls between the top buffer's two.
        Assert.Equal(
        [
            $"2010 0 100 sample 7 -5",
            $"2015 0 200 sample 9 1",
            $"2030 0 100 sample 8 {long.MinValue}",
        ], ReadLines(source));
        Assert.Equal(["", "inst"], source.BufferNames);
        Assert.Equal(TraceClockKind.Monotonic, source.Clock);
        Assert.Equal("worker", source.InitialThreadNames[100]);
        Assert.Equal("other thread", source.InitialThreadNames[200]);
        Assert.True(source.Diagnostics.IsClean);
    }

    [Fact]
    public void Read_PageWithStoredLostCount_EmitsLostEventsWithThatCountBeforeThePage()
    {
        var dat = new SyntheticTraceDat(false);
        var first = dat.Page().Timestamp(100).Event(1, dat.Payload(100, 1, 0)).Build();
        var second = dat.Page().Timestamp(500).Missed(storedCount: 37).Event(5, dat.Payload(100, 2, 0)).Build();
        string path = Path.Combine(_temp.Path, "lost.dat");
        dat.Write(path, [first, second], null, clock: "tai");

        using var source = FtraceFileSource.OpenTraceDat(path);

        Assert.Equal(["101 0 100 sample 1 0", "500 0 -1 vmtrace_lost_events 37", "505 0 100 sample 2 0"], ReadLines(source));
        Assert.Equal((37, 1), (source.Diagnostics.LostEvents, source.Diagnostics.LossReports));
        Assert.Equal(TraceClockKind.Realtime, source.Clock);
    }

    [Fact]
    public void Read_EventIdWithoutFormat_DeliveredAsUnknownEventWithItsId()
    {
        var dat = new SyntheticTraceDat(false);
        var page = dat.Page().Timestamp(0).Event(3, dat.Payload(100, 1, 0, id: 999)).Event(4, dat.Payload(100, 2, 0)).Build();
        string path = Path.Combine(_temp.Path, "unknown.dat");
        dat.Write(path, [page], null);

        using var source = FtraceFileSource.OpenTraceDat(path);

        Assert.Equal(["3 0 100 ftrace_unknown_event 999", "7 0 100 sample 2 0"], ReadLines(source));
    }

    [Fact]
    public void Read_TscClockWithoutConversion_ReportsCycles()
    {
        var dat = new SyntheticTraceDat(false);
        string path = Path.Combine(_temp.Path, "tsc.dat");
        dat.Write(path, [dat.Page().Timestamp(0).Event(3, dat.Payload(100, 1, 0)).Build()], null, clock: "x86-tsc");

        using var source = FtraceFileSource.OpenTraceDat(path);

        Assert.Equal(TraceClockKind.Cycles, source.Clock);
    }

    [Fact]
    public void Read_EventShorterThanItsFormat_RecordedAsDamageAndSkipped()
    {
        var dat = new SyntheticTraceDat(false);
        var shortPayload = dat.Payload(100, 1, 0)[..12]; // "big" at 16..24 is missing
        var page = dat.Page().Timestamp(0).Event(3, shortPayload).Event(4, dat.Payload(100, 2, 0)).Build();
        string path = Path.Combine(_temp.Path, "short.dat");
        dat.Write(path, [page], null);

        using var source = FtraceFileSource.OpenTraceDat(path);

        Assert.Equal(["7 0 100 sample 2 0"], ReadLines(source));
        var error = Assert.Single(source.Diagnostics.Errors);
        Assert.Contains("shorter than its format", error.Problem);
        Assert.Equal(12, source.Diagnostics.SkippedBytes);
    }
}
