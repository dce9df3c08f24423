using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vmtrace.Agent;
using Vmtrace.Agent.Live;
using Vmtrace.Agent.Live.QemuLog;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A live host that goes quiet, on a fake clock: the real live sources (a qemu log follower inside the merged
/// source the live agent reads) deliver a VM's disk requests, then nothing more is written. The agent's idle
/// heartbeats carry the source's watermark (fake now − slack), so the worker closes the last window with events
/// while the host stays quiet, not only when the session ends.
/// </summary>
public sealed class IdleLiveSourceTests : IDisposable
{
    private const long Second = 1_000_000_000;
    private const long T0 = 1_700_000_000 * Second; // a window boundary (1 s windows)
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(100);
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-idle-live-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class QemuLogHost(string log, FakeTimeProvider time, WireInventory inventory) : IAgentSource
    {
        public string HostId => "quiet-host";

        public string Description => log;

        public bool IsLive => true;

        // Every look at the clock by the idle follower is 10 ms of the host's time passing.
        public EventSource Open() => new LiveMergedSource(
            [new QemuLogFollower(log, Slack, TimeSpan.FromMilliseconds(1), () =>
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
                return (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
            })],
            TimeSpan.FromMilliseconds(1), new HostClockRealPauses(time));

        public WireInventory Inventory(EventSource opened) => inventory;
    }

    /// <summary>
    /// The merged source's clock: the host's (fake) time for how long a read has waited, real 1 ms pauses between
    /// polls. The fake clock moves only when the follower reads it, so a pause on the fake clock would never end.
    /// </summary>
    private sealed class HostClockRealPauses(FakeTimeProvider host) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => host.GetUtcNow();

        public override long GetTimestamp() => host.GetTimestamp();

        public override long TimestampFrequency => host.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime, period);
    }

    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    /// <summary>Runs the live agent on the log (fake clock starting at T0 + 0.8 s) until the clock passes T0 + 6 s.</summary>
    private List<(HostRecord Record, byte[] Value, bool SessionEnd)> RunAgent(string? logText)
    {
        string log = Path.Combine(_dir, "qemu.log");
        if (logText is not null)
            File.WriteAllText(log, logText, Encoding.ASCII);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch + TimeSpan.FromTicks((T0 + 800_000_000) / 100));
        var vm = new WireVm("web", 100, "", [], [new WireVmThread(101, "worker", -1)]);
        var inventory = new WireInventory([vm], [new WireThreadName(100, "qemu-system-x86"), new WireThreadName(101, "worker")]);
        // The agent is stopped when the fake clock reaches T0 + 6 s, whatever it sent.
        using var cts = new CancellationTokenSource(TimeSpan.FromTicks((6 * Second - 800_000_000) / 100), time);
        var sink = new ListSink();
        new AgentPipeline(new QemuLogHost(log, time, inventory), sink, new AgentOptions
        {
            Live = true,
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            InventoryCheckInterval = TimeSpan.FromDays(1),
            HealthInterval = TimeSpan.FromDays(1),
        }, time: time).Run(cts.Token);
        return sink.Records.Select(r => (HostRecord.Read(r.Value), r.Value, r.SessionEnd)).ToList();
    }

    /// <summary>The watermarks of the heartbeats sent while the host was quiet (not the session end).</summary>
    private static List<long> IdleBeats(List<(HostRecord Record, byte[] Value, bool SessionEnd)> records)
    {
        var beats = records.Where(r => r.Record.Kind == HostRecordKind.Heartbeat && !r.SessionEnd).Select(r => r.Record.ReadWatermark()).ToList();
        // One heartbeat a (fake) second, each at the follower's now − slack, the last one past T0 + 4.9 s.
        Assert.True(beats.Count >= 4, $"idle heartbeats at T0 + {string.Join(", ", beats.Select(b => (b - T0) / 1e9))} s");
        Assert.Equal(beats.Order(), beats);
        Assert.All(beats.Zip(beats.Skip(1)), p => Assert.InRange(p.Second - p.First, 9 * Second / 10, 11 * Second / 10));
        Assert.True(beats[^1] >= T0 + 49 * Second / 10 - Slack.Ticks * 100, $"last idle heartbeat at T0 + {(beats[^1] - T0) / 1e9:0.###} s");
        return beats;
    }

    [Fact]
    public void NoEventAtAll_WatermarkStillFollowsTheClock()
    {
        var records = RunAgent(logText: null); // qemu has written nothing (its log does not even exist)
        Assert.DoesNotContain(records, r => r.Record.Kind == HostRecordKind.EventBatch);
        IdleBeats(records);
    }

    [Fact]
    public void NoEventsAfterTheLastRequest_HeartbeatsFollowTheClockAndCloseTheWindowOnTime()
    {
        // qemu's worker thread 101 (VM pid 100) submits and completes two requests in window 0, then the host is quiet.
        var records = RunAgent(string.Concat(
            "101@1700000000.100000:thread_pool_submit pool 0x55 req 0x77 opaque 0x99\n",
            "101@1700000000.300000:thread_pool_complete pool 0x55 req 0x77 opaque 0x99 ret 0\n",
            "101@1700000000.500000:thread_pool_submit pool 0x55 req 0x78 opaque 0x9a\n",
            "101@1700000000.700000:thread_pool_complete pool 0x55 req 0x78 opaque 0x9a ret 0\n"));
        var beats = IdleBeats(records);

        // The worker writes window 0 (the requests) when the first heartbeat past its end arrives: at most one
        // heartbeat interval plus the slack after the window ended, not at the session end.
        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        long? writtenAt = null;
        foreach (var (record, value, sessionEnd) in records)
        {
            var points = new List<string>();
            Assert.True(processor.Process(state, value, sessionEnd, points).Used);
            if (writtenAt is null && points.Any(p => p.StartsWith("vmtrace_disk,", StringComparison.Ordinal) && p.Contains("vm=web", StringComparison.Ordinal) && p.EndsWith(" " + T0, StringComparison.Ordinal)))
            {
                Assert.False(sessionEnd, "window 0 was written only at the session end");
                Assert.Equal(HostRecordKind.Heartbeat, record.Kind);
                writtenAt = record.ReadWatermark();
            }
        }
        Assert.NotNull(writtenAt);
        Assert.Equal(beats.First(b => b >= T0 + Second), writtenAt.Value);
        Assert.InRange(writtenAt.Value, T0 + Second, T0 + 2 * Second + Slack.Ticks * 100);
    }
}
