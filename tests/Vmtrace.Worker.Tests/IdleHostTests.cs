using Microsoft.Extensions.Time.Testing;
using Vmtrace.Agent;
using Vmtrace.Agent.Tests;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A host whose agent stops without ending its session (killed, host down): after Worker:HostIdleTimeout of silence
/// (a fake clock) its open window is closed at its last watermark and the host forgotten; before that, nothing happens.
/// </summary>
public class IdleHostTests
{
    private const long Second = 1_000_000_000;
    private const long T0 = 1_700_000_000 * Second; // a window boundary (1 s windows)

    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    private static long[] Windows(List<string> points) =>
        points.Select(p => long.Parse(p[(p.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order().ToArray();

    [Fact]
    public void SilentHost_OpenWindowClosedAfterTheIdleTimeout_NotBefore()
    {
        using var cts = new CancellationTokenSource();
        var vm = new WireVm("web", 100, "", [], [new WireVmThread(101, "CPU 0/KVM", 0)]);
        var source = new ScriptedLiveSource()
            .Inventories(new WireInventory([vm], [new WireThreadName(100, "qemu-system-x86")]))
            .Event(T0 + Second / 10, 0, 0, 101).Event(T0 + 4 * Second / 10, 1, 0, 100).Event(T0 + 8 * Second / 10, 0, 101, 0)
            .Idle(T0 + 2 * Second + Second / 2)
            .Then(cts.Cancel);
        var sink = new ListSink();
        new AgentPipeline(source, sink, new AgentOptions
        {
            Live = true,
            HeartbeatInterval = TimeSpan.Zero,
            InventoryCheckInterval = TimeSpan.FromDays(1),
            HealthInterval = TimeSpan.FromDays(1),
        }).Run(cts.Token);
        // The agent dies before its session end: the worker gets everything but the final health record and the session-end heartbeat.
        var records = sink.Records.Where(r => !r.SessionEnd && HostRecord.Read(r.Value).Kind != HostRecordKind.AgentHealth).ToList();
        Assert.Equal([HostRecordKind.Inventory, HostRecordKind.EventBatch, HostRecordKind.Heartbeat], records.Select(r => HostRecord.Read(r.Value).Kind));

        var options = new WorkerOptions { Window = TimeSpan.FromSeconds(1), HostIdleTimeout = TimeSpan.FromMinutes(5) };
        var time = new FakeTimeProvider();
        var idle = new IdleHosts(time, options.HostIdleTimeout);
        var processor = new RecordProcessor(options);
        var state = new PartitionState(0);
        var points = new List<string>();
        foreach (var (value, sessionEnd) in records)
        {
            Assert.True(processor.Process(state, value, sessionEnd, points).Used);
            idle.Seen(state.Partition, source.HostId);
        }
        // The heartbeat at T0 + 2.5 s closed windows 0 and 1; window 2 stays open.
        Assert.Equal([T0, T0 + Second], Windows(points));
        points.Clear();

        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Empty(idle.Expired(state));
        Assert.Single(state.Hosts);

        time.Advance(TimeSpan.FromTicks(1));
        var expired = Assert.Single(idle.Expired(state));
        processor.EndSilentHost(state, expired, points);
        Assert.Equal([T0 + 2 * Second], Windows(points)); // the open window, closed at the last watermark
        Assert.Empty(state.Hosts);
        Assert.Equal(1, processor.Counters.HostsTimedOut);

        // A record arriving later starts afresh; a host seen again is not expired by the old silence.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(idle.Expired(state));
    }

    [Fact]
    public void HostRecordsKeepComing_NeverExpired()
    {
        var time = new FakeTimeProvider();
        var idle = new IdleHosts(time, TimeSpan.FromSeconds(30));
        var state = new PartitionState(3);
        state.Host("h");
        for (int i = 0; i < 10; i++)
        {
            idle.Seen(3, "h");
            time.Advance(TimeSpan.FromSeconds(29));
            Assert.Empty(idle.Expired(state));
        }
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(idle.Expired(state));
    }
}
