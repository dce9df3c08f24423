using Vmtrace.Agent;
using Vmtrace.Agent.Tests;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A VM started while the live agent runs: the agent sees QEMU's exec in the trace, rescans at once and sends the
/// inventory naming the VM before any later event, so the worker knows the VM by its name from its first window on.
/// Agent pipeline (scripted live source) → records → the worker's record processor.
/// </summary>
public class VmStartedLiveTests
{
    private const long Second = 1_000_000_000;
    private const long T0 = 1_700_000_000 * Second;

    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    [Fact]
    public void QemuExecMidStream_InventoryNamingTheVmGoesBeforeItsEvents_PointsCarryThatNameOnly()
    {
        using var cts = new CancellationTokenSource();
        var before = new WireInventory([], [new WireThreadName(50, "bash")]);
        var web = new WireVm("web", 200, "", [], [new WireVmThread(200, "qemu-system-x86", -1), new WireVmThread(201, "CPU 0/KVM", 0)]);
        var after = new WireInventory([web], [new WireThreadName(50, "bash")]);
        var source = new ScriptedLiveSource()
            .Inventories(before, after)
            .Event(T0 + Second / 10, 0, 0, 50).Event(T0 + 2 * Second / 10, 0, 50, 0)
            .ExecEvent(T0 + 3 * Second / 10, 1, 200, "/usr/bin/qemu-system-x86_64")
            .Event(T0 + 4 * Second / 10, 1, 200, 201).Event(T0 + 9 * Second / 10, 1, 201, 0)
            .Event(T0 + Second + Second / 10, 1, 0, 201).Event(T0 + Second + 8 * Second / 10, 1, 201, 0)
            .Idle(T0 + 2 * Second + Second / 2)
            .Then(cts.Cancel);
        var sink = new ListSink();
        new AgentPipeline(source, sink, new AgentOptions
        {
            Live = true,
            HeartbeatInterval = TimeSpan.FromDays(1),
            InventoryCheckInterval = TimeSpan.FromDays(1), // only the exec makes the agent rescan
            HealthInterval = TimeSpan.FromDays(1),
        }).Run(cts.Token);

        // Records: inventory (no VM), the batch ending with the exec, the inventory with "web", the later events.
        var kinds = sink.Records.Select(r => HostRecord.Read(r.Value)).ToList();
        int execBatch = kinds.FindIndex(r => r.Kind == HostRecordKind.EventBatch);
        Assert.Equal(HostRecordKind.Inventory, kinds[0].Kind);
        Assert.Equal(HostRecordKind.Inventory, kinds[execBatch + 1].Kind);
        Assert.Equal("web", Assert.Single(kinds[execBatch + 1].ReadInventory().Vms).Name);
        var reader = new EventBatchReader();
        reader.Load(kinds[execBatch]);
        var times = new List<long>();
        while (reader.MoveNext())
            times.Add(reader.Current.Timestamp);
        Assert.Equal([T0 + Second / 10, T0 + 2 * Second / 10, T0 + 3 * Second / 10], times);
        Assert.Equal(2, source.InventoryCalls);

        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        var points = new List<string>();
        foreach (var (value, sessionEnd) in sink.Records)
            Assert.True(processor.Process(state, value, sessionEnd, points).Used);
        var vmPoints = points.Where(p => p.StartsWith("vmtrace_vm,", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(vmPoints);
        Assert.All(vmPoints, p => Assert.Contains(",vm=web", p, StringComparison.Ordinal));
        // Both windows the VM ran in carry it, the first one included.
        Assert.Equal([T0, T0 + Second], vmPoints.Select(p => long.Parse(p[(p.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order());
    }
}
