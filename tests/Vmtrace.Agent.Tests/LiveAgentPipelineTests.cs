using Microsoft.Extensions.Time.Testing;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>
/// The agent loop on a live source, driven by a script (no clock: intervals are zero, so every check is due):
/// idle reads flush and send a heartbeat at the source's watermark, cancellation stops and drains the source,
/// and the inventory is sent again only when it changed.
/// </summary>
public class LiveAgentPipelineTests
{
    private const long T0 = 1_700_000_000_000_000_000;

    private sealed class ListSink : IRecordSink
    {
        public List<(HostRecord Record, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) =>
            Records.Add((HostRecord.Read(value), sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    private static AgentOptions Options() => new()
    {
        Live = true,
        HeartbeatInterval = TimeSpan.Zero,
        InventoryCheckInterval = TimeSpan.Zero,
        InventoryInterval = TimeSpan.FromDays(1),
        HealthInterval = TimeSpan.FromDays(1), // only the final health record, after the drain
    };

    private static List<long> Timestamps(HostRecord batch)
    {
        var reader = new EventBatchReader();
        reader.Load(batch);
        var list = new List<long>();
        while (reader.MoveNext())
            list.Add(reader.Current.Timestamp);
        return list;
    }

    /// <summary>The record stream as text: I = inventory, B[t…] = batch with its event times (offsets from T0), H t = heartbeat, A = agent health, E t = session end.</summary>
    private static List<string> Describe(ListSink sink) => sink.Records.Select(r => r.Record.Kind switch
    {
        HostRecordKind.Inventory => "I",
        HostRecordKind.AgentHealth => "A",
        HostRecordKind.EventBatch => "B[" + string.Join(",", Timestamps(r.Record).Select(t => t - T0)) + "]",
        _ => (r.SessionEnd ? "E " : "H ") + (r.Record.ReadWatermark() - T0),
    }).ToList();

    [Fact]
    public void Run_IdleSource_FlushesThenHeartbeatAtItsWatermark_StopDrainsAndEndsSession()
    {
        using var cts = new CancellationTokenSource();
        var source = new ScriptedLiveSource()
            .Event(T0 + 100, 0, 1, 2).Event(T0 + 200, 1, 3, 4)
            .Idle(T0 + 5_000)
            .Idle(T0 + 5_000) // no progress: no second heartbeat at the same watermark
            .Idle(T0 + 9_000)
            .Event(T0 + 9_500, 0, 2, 1)
            .Then(cts.Cancel) // SIGTERM while an event is still in the batch and two more in the buffers
            .Drain(T0 + 9_600, 1, 4, 3).Drain(T0 + 9_700, 0, 1, 2);
        var sink = new ListSink();
        var pipeline = new AgentPipeline(source, sink, Options());

        pipeline.Run(cts.Token);

        Assert.True(source.StopRequested, "cancellation must ask the source to stop");
        Assert.True(source.Disposed);
        // The batch goes out before each heartbeat; an idle heartbeat is at the source's watermark (5000, 9000:
        // beyond every event sent, which is what closes a quiet host's windows), a busy one at the newest event
        // sent (9500, the source was still at 9000); events drained after the stop come before the session end.
        Assert.Equal(["I", "B[100,200]", "H 5000", "H 9000", "B[9500]", "H 9500", "B[9600,9700]", "A", "E 9700"], Describe(sink));
        Assert.Equal(5, pipeline.Counters.EventsSent);
        Assert.Equal(5, pipeline.Counters.EventsRead);
    }

    [Fact]
    public void Run_InventoryScans_SendOnlyWhenVmsChange()
    {
        using var cts = new CancellationTokenSource();
        var a = new WireInventory([new WireVm("web", 10, "u-1", ["tap0"], [new WireVmThread(11, "CPU 0/KVM", 0)])], [], SampledAtNs: 1);
        var aLater = a with { SampledAtNs = 2 }; // the same VMs, scanned later
        var b = new WireInventory([.. a.Vms, new WireVm("db", 20, "u-2", [], [new WireVmThread(21, "CPU 0/KVM", 0)])], [], SampledAtNs: 3);
        var source = new ScriptedLiveSource()
            .Inventories(a, a, aLater, b)
            .Idle(T0 + 1_000).Idle(T0 + 2_000).Idle(T0 + 3_000).Idle(T0 + 4_000)
            .Then(cts.Cancel);
        var sink = new ListSink();

        new AgentPipeline(source, sink, Options()).Run(cts.Token);

        Assert.Equal(["I", "H 1000", "H 2000", "H 3000", "I", "H 4000", "A", "E 4000"], Describe(sink));
        Assert.True(source.InventoryCalls >= 5, $"the host is rescanned at every check ({source.InventoryCalls} scans)");
        var sent = sink.Records.Where(r => r.Record.Kind == HostRecordKind.Inventory).Select(r => r.Record.ReadInventory()).ToList();
        Assert.Equal(["web"], sent[0].Vms.Select(v => v.Name));
        Assert.Equal(["web", "db"], sent[1].Vms.Select(v => v.Name));
    }

    [Fact]
    public void AgentOptions_Live_NeedsNoInputsAndRefusesThem()
    {
        Assert.Empty(new AgentOptions { Live = true }.Problems());
        var problems = new AgentOptions { Live = true, Inputs = ["/"], Speed = 1 }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith("Agent:Inputs must be empty when Agent:Live is set", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Agent:Speed applies to replays only", StringComparison.Ordinal));
        Assert.Contains(new AgentOptions().Problems(), p => p.Contains("Agent:Live=true", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_BatchHeldBatchMaxDelayOnItsClock_GoesOutBeforeTheNextHeartbeat()
    {
        using var cts = new CancellationTokenSource();
        var clock = new FakeTimeProvider();
        var source = new ScriptedLiveSource()
            .Event(T0 + 100, 0, 1, 2).Event(T0 + 200, 1, 3, 4)
            .Idle(T0 + 250) // held 0 ms: kept
            .Then(() => clock.Advance(TimeSpan.FromMilliseconds(300)))
            .Idle(T0 + 260) // held 300 ms > BatchMaxDelay: sent, though no heartbeat is due for a day
            .Event(T0 + 300, 0, 2, 1)
            .Then(cts.Cancel);
        var sink = new ListSink();
        var options = Options();
        options.HeartbeatInterval = TimeSpan.FromDays(1);
        options.InventoryCheckInterval = TimeSpan.FromDays(1);
        options.BatchMaxDelay = TimeSpan.FromMilliseconds(200);

        new AgentPipeline(source, sink, options, time: clock).Run(cts.Token);

        Assert.Equal(["I", "B[100,200]", "B[300]", "A", "E 300"], Describe(sink));
    }
}
