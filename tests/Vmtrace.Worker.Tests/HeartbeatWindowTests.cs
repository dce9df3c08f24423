using Vmtrace.Agent;
using Vmtrace.Agent.Tests;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A quiet live host: the agent's idle heartbeats, not new events, are what close the worker's windows.
/// Agent pipeline (scripted live source) → records → the worker's record processor, one record at a time.
/// </summary>
public class HeartbeatWindowTests
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

    /// <summary>Window start times (line protocol's last field) of the points each record made the worker write.</summary>
    private static List<(HostRecordKind Kind, long[] Windows)> Feed(ListSink sink)
    {
        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        var result = new List<(HostRecordKind, long[])>();
        foreach (var (value, sessionEnd) in sink.Records)
        {
            var points = new List<string>();
            var outcome = processor.Process(state, value, sessionEnd, points);
            Assert.True(outcome.Used, outcome.Reason);
            result.Add((HostRecord.Read(value).Kind, points.Select(p => long.Parse(p[(p.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order().ToArray()));
        }
        return result;
    }

    [Fact]
    public void IdleHeartbeats_CloseWindowsWithoutNewEvents()
    {
        using var cts = new CancellationTokenSource();
        var vm = new WireVm("web", 100, "", [], [new WireVmThread(101, "CPU 0/KVM", 0)]);
        var source = new ScriptedLiveSource()
            .Inventories(new WireInventory([vm], [new WireThreadName(100, "qemu-system-x86")]))
            .Event(T0 + Second / 10, 0, 0, 101).Event(T0 + 4 * Second / 10, 1, 0, 100).Event(T0 + 8 * Second / 10, 0, 101, 0)
            .Idle(T0 + 3 * Second + Second / 2) // nothing happens on the host for 2.7 s
            .Then(cts.Cancel);
        var sink = new ListSink();
        new AgentPipeline(source, sink, new AgentOptions
        {
            Live = true,
            HeartbeatInterval = TimeSpan.Zero,
            InventoryCheckInterval = TimeSpan.FromDays(1),
            HealthInterval = TimeSpan.FromDays(1), // only the final health record, after the drain
        }).Run(cts.Token);

        var fed = Feed(sink);

        // The events (all in window 0) close nothing; the idle heartbeat closes windows 0, 1 and 2 (its watermark
        // is in window 3, which stays open until the session ends).
        Assert.Equal([HostRecordKind.Inventory, HostRecordKind.EventBatch, HostRecordKind.Heartbeat, HostRecordKind.AgentHealth, HostRecordKind.Heartbeat],
            fed.Select(f => f.Kind));
        Assert.Empty(fed[1].Windows);
        Assert.Equal([T0, T0 + Second, T0 + 2 * Second], fed[2].Windows);
        // The agent's final counters become one pipeline_health point at the agent's wall-clock time, no window.
        Assert.True(Assert.Single(fed[3].Windows) > T0 + 10 * Second);
        Assert.Equal([T0 + 3 * Second], fed[4].Windows); // the session end closes the last, partial window
    }
}
