using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vmtrace.Agent.Live.QemuLog;

namespace Vmtrace.Agent.Live.Tests.QemuLog;

/// <summary>Following qemu log-backend files as qemu writes them, and merging them with other live sources.</summary>
public sealed class QemuLogFollowerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-qlog-").FullName;
    private long _now = 1_700_000_010_000_000_000;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private QemuLogFollower Follow(string name) =>
        new(Path.Combine(_dir, name), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1), () => _now);

    private void Append(string name, string text)
    {
        using var f = new FileStream(Path.Combine(_dir, name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        f.Write(Encoding.UTF8.GetBytes(text));
    }

    [Fact]
    public void TryMoveNext_LineWrittenInTwoParts_DeliversItOnceComplete()
    {
        using var f = Follow("a.log");
        Assert.Equal(LiveReadResult.Idle, f.TryMoveNext(TimeSpan.Zero)); // file not there yet
        Append("a.log", "1234@1700000000.000100:thread_pool_submit pool 0x55 req 0x77 opaque 0x");
        Assert.Equal(LiveReadResult.Idle, f.TryMoveNext(TimeSpan.Zero));
        Append("a.log", "99\n1234@1700000000.000200:thread_pool_complete pool 0x55 req 0x77 opaque 0x99 ret 0\n");
        Assert.Equal(LiveReadResult.Event, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal("thread_pool_submit", f.Current.Type.Name);
        Assert.Equal(1_700_000_000_000_100_000, f.Current.Timestamp);
        Assert.Equal(1234, f.Current.Tid);
        Assert.Equal(0x77, f.Current.GetInt64(f.Current.Type.IndexOf("req")));
        Assert.Equal(LiveReadResult.Event, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal("thread_pool_complete", f.Current.Type.Name);
        Assert.Equal(LiveReadResult.Idle, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(_now - 100_000_000, f.Watermark);
        Assert.True(f.Diagnostics.IsClean);
    }

    [Fact]
    public void TryMoveNext_StopWithCutLineAndGarbage_CountsBothAndEnds()
    {
        using var f = Follow("b.log");
        Append("b.log", "qemu-system-x86_64: some warning\n1@1700000000.000001:runstate_set current_run_state 9 (running) new_state 7\n1@17000");
        f.RequestStop();
        Assert.Equal(LiveReadResult.Event, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(LiveReadResult.End, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(2, f.Diagnostics.ErrorCount);
        Assert.Contains(f.Diagnostics.Errors, e => e.Message.Contains("cut off", StringComparison.Ordinal));
        Assert.All(f.Diagnostics.Errors, e => Assert.Contains("b.log", e.Message));
    }

    [Fact]
    public void TryMoveNext_FileTruncatedByRestartedQemu_ReadsFromTheTop()
    {
        using var f = Follow("c.log");
        Append("c.log", "1@1700000000.000001:runstate_set current_run_state 9 new_state 7\n");
        Assert.Equal(LiveReadResult.Event, f.TryMoveNext(TimeSpan.Zero));
        File.WriteAllText(Path.Combine(_dir, "c.log"), "");
        Append("c.log", "2@1700000001.000001:x a 1\n");
        Assert.Equal(LiveReadResult.Event, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(2, f.Current.Tid);
    }

    [Fact]
    public void TryMoveNext_TwoFollowersMerged_ReleasesInTimeOrderUpToTheWatermark()
    {
        Append("x.log", "1@1700000000.000001:e v 1\n1@1700000000.000005:e v 5\n");
        Append("y.log", "2@1700000000.000003:e v 3\n");
        using var merged = new LiveMergedSource([Follow("x.log"), Follow("y.log")], TimeSpan.FromMilliseconds(1));
        var order = new List<long>();
        while (merged.TryMoveNext(TimeSpan.Zero) == LiveReadResult.Event)
            order.Add(merged.Current.GetInt64(0));
        Assert.Equal([1, 3, 5], order);
        // An event newer than y's watermark (now − slack) must wait for y.
        Append("x.log", "1@1700000010.000000:e v 9\n");
        _now = 1_700_000_010_050_000_000; // y's watermark: 9.95 s
        Assert.Equal(LiveReadResult.Idle, merged.TryMoveNext(TimeSpan.Zero));
        _now = 1_700_000_010_200_000_000;
        Assert.Equal(LiveReadResult.Event, merged.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(9, merged.Current.GetInt64(0));
        merged.RequestStop();
        Assert.Equal(LiveReadResult.End, merged.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(0, merged.Diagnostics.OutOfOrderEvents);
    }

    [Fact]
    public void TryMoveNext_NoOwnRealtime_WatermarkFollowsTheInjectedClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using var f = new QemuLogFollower(Path.Combine(_dir, "z.log"), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1), time: clock);
        Assert.Equal(LiveReadResult.Idle, f.TryMoveNext(TimeSpan.Zero));
        // Nothing in the file: lines yet to come are stamped after now − slack (1,700,000,000 s − 100 ms).
        Assert.Equal(1_699_999_999_900_000_000, f.Watermark);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(LiveReadResult.Idle, f.TryMoveNext(TimeSpan.Zero));
        Assert.Equal(1_700_000_004_900_000_000, f.Watermark);
    }

    [Fact]
    public async Task TryMoveNext_NothingToRelease_WaitsItsWholeWaitOnTheInjectedClock()
    {
        var clock = new FakeTimeProvider();
        var start = clock.GetUtcNow();
        using var merged = new LiveMergedSource([new QemuLogFollower(Path.Combine(_dir, "none.log"), TimeSpan.Zero, TimeSpan.FromMilliseconds(10), () => 0, clock)],
            TimeSpan.FromMilliseconds(10), clock);
        var read = Task.Run(() => merged.TryMoveNext(TimeSpan.FromSeconds(1)));
        // The read polls every 10 ms of its clock: the test moves the clock on, 10 ms at a time, until the read gives up.
        while (await Task.WhenAny(read, Task.Delay(1)) != read)
            clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(LiveReadResult.Idle, await read);
        Assert.True(clock.GetUtcNow() - start >= TimeSpan.FromSeconds(1), $"the read gave up after {clock.GetUtcNow() - start} of its 1 s wait");
    }
}
