using System.Globalization;
using Vmtrace.Agent.Live.Tests.Qemu;
using Vmtrace.Agent.Live.Tests.Recording;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Wire;
using Vmtrace.Worker;
using Xunit.Abstractions;

namespace Vmtrace.Agent.Live.Tests.Agent;

/// <summary>
/// A VM started after the live agent: the agent (in-process, on this host's tracefs and qemu's trace log) is
/// running before qemu exists; a TCG guest then boots, works and powers off. Every record goes through the worker's
/// record processor: every point of the guest's VM, in every window it appears in, carries the guest's -name.
/// </summary>
[Collection(nameof(RecordProcessTests))] // tracefs instances: alone, as vmtrace record's process tests
public sealed class VmStartedAfterAgentTests(ITestOutputHelper output)
{
    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
        {
            lock (Records)
                Records.Add((value, sessionEnd));
        }

        public void Flush(TimeSpan timeout)
        {
        }
    }

    [QemuFact]
    [Trait("Category", "LiveRecord")]
    public void GuestBootedAfterTheAgent_OneNameForAllItsWindows()
    {
        using var lab = new TcgLab();
        string name = "late" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var source = new LiveHostSource(new LiveOptions
        {
            HostId = "live-" + name,
            TracefsSettings = new TracefsOptions { InstanceName = "vmtrace-late-" + Environment.ProcessId, BufferSizeKb = 8192 },
            StateDirectory = lab.Work,
        });
        var sink = new ListSink();
        using var stop = new CancellationTokenSource();
        var agent = new Thread(() => new AgentPipeline(source, sink, new AgentOptions
        {
            Live = true,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            InventoryCheckInterval = TimeSpan.FromMinutes(10), // only qemu's exec makes the agent rescan
        }).Run(stop.Token))
        { IsBackground = true, Name = "agent" };
        agent.Start();
        Thread.Sleep(1500); // the agent runs, with no qemu of this test yet

        var vm = lab.Launch(name, 1, "cpu", 3);
        int pid = TcgLab.QemuPid(vm);
        lab.WaitForWorkloads(TimeSpan.FromSeconds(60));
        lab.WaitForPowerOff(TimeSpan.FromSeconds(60));
        Thread.Sleep(1000);
        stop.Cancel();
        Assert.True(agent.Join(TimeSpan.FromSeconds(60)), "the agent did not stop");

        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        var points = new List<string>();
        foreach (var (value, sessionEnd) in sink.Records)
            Assert.True(processor.Process(state, value, sessionEnd, points).Used);
        var vmPoints = points.Where(p => p.StartsWith("vmtrace_", StringComparison.Ordinal)).ToList();
        // The guest's VM under any name: its -name, or one made from its pid or its threads (a VM seen before the inventory).
        string pidText = pid.ToString(CultureInfo.InvariantCulture);
        var names = vmPoints.Select(VmTag).OfType<string>()
            .Where(n => n == name || n.Contains(pidText, StringComparison.Ordinal) || n.StartsWith("qemu", StringComparison.Ordinal) || n.Contains("CPU", StringComparison.Ordinal))
            .ToHashSet();
        var windows = vmPoints.Where(p => VmTag(p) == name).Select(p => p[(p.LastIndexOf(' ') + 1)..]).Distinct().Count();
        output.WriteLine($"qemu pid {pid}; {sink.Records.Count} records, {vmPoints.Count} VM points; names: {string.Join(", ", names)}; {windows} window(s) of '{name}'");
        Assert.Equal([name], names);
        // And no point names a VM the agent's inventories never named (a name the analysis made up for threads of no known VM).
        var inventoried = sink.Records.Select(r => HostRecord.Read(r.Value)).Where(r => r.Kind == HostRecordKind.Inventory)
            .SelectMany(r => r.ReadInventory().Vms).Select(v => v.Name).ToHashSet();
        Assert.Empty(vmPoints.Select(VmTag).OfType<string>().Where(n => !inventoried.Contains(n)).Distinct());
        Assert.True(windows >= 2, $"the guest's VM has {windows} window(s)");
    }

    /// <summary>The vm tag of a line-protocol point (no escaped characters in the names used here).</summary>
    private static string? VmTag(string point)
    {
        int at = point.IndexOf(",vm=", StringComparison.Ordinal);
        if (at < 0)
            return null;
        int start = at + 4;
        int end = point.IndexOfAny([',', ' '], start);
        return point[start..end];
    }
}
