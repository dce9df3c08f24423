using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Tests;

/// <summary>The agent's live source: tracefs plus the qemu logs that discovery finds, one ordered stream, an inventory under -name.</summary>
public sealed class LiveHostSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmtrace-livehost-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [LiveHostFact]
    public void Inventory_QemuWithTraceLog_NamesVmAndMergesItsLogWithTracefs()
    {
        string proc = Path.Combine(_root, "proc", "4242");
        Directory.CreateDirectory(Path.Combine(proc, "task", "4242"));
        Directory.CreateDirectory(Path.Combine(proc, "task", "4243"));
        File.WriteAllText(Path.Combine(proc, "comm"), "qemu-system-x86\n");
        string log = Path.Combine(_root, "qemu-web.log");
        File.WriteAllText(Path.Combine(proc, "cmdline"), string.Join('\0', ["qemu-system-x86_64", "-name", "guest=web,debug-threads=on", "-uuid", "u-1", "-D", log]) + "\0");
        File.WriteAllText(Path.Combine(proc, "task", "4242", "comm"), "qemu-system-x86\n");
        File.WriteAllText(Path.Combine(proc, "task", "4243", "comm"), "CPU 0/TCG\n");
        var options = new LiveOptions
        {
            HostId = "h1",
            Proc = Path.Combine(_root, "proc"),
            LibvirtRun = Path.Combine(_root, "libvirt"),
            TracefsSettings = new TracefsOptions { InstanceName = "vmtrace-test-host-" + Environment.ProcessId, BufferSizeKb = 512 },
        };
        var host = new LiveHostSource(options);
        using var events = (LiveMergedSource)host.Open();
        var inventory = host.Inventory(events);
        var vm = Assert.Single(inventory.Vms);
        Assert.Equal("web", vm.Name);
        Assert.Equal("u-1", vm.Uuid);
        Assert.Equal([-1, 0], vm.Threads.Select(t => t.VcpuIndex).ToArray());
        Assert.Equal(2, events.Inputs.Count);

        long stamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        File.AppendAllText(log, $"4242@{stamp / 1_000_000}.{stamp % 1_000_000:D6}:thread_pool_submit pool 0x1 req 0x2 opaque 0x3\n");
        bool sawQemu = false, sawKernel = false;
        long last = long.MinValue, outOfOrder = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(2))
                events.RequestStop();
            var r = events.TryMoveNext(TimeSpan.FromMilliseconds(50));
            if (r == LiveReadResult.End)
                break;
            if (r != LiveReadResult.Event)
                continue;
            var e = events.Current;
            if (e.Timestamp < last)
                outOfOrder++;
            last = e.Timestamp;
            sawQemu |= e.Type.Name == "thread_pool_submit" && e.Tid == 4242;
            sawKernel |= e.Type.System == "sched";
        }
        Assert.True(sawQemu, "the qemu log event was not delivered");
        Assert.True(sawKernel, "no kernel event was delivered");
        Assert.Equal(0, outOfOrder);
        Assert.Equal(0, events.InputDiagnostics().ErrorCount);
    }

    [Fact]
    public void Constructor_NothingToTrace_SaysSo()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LiveHostSource(new LiveOptions { Tracefs = false }));
        Assert.Contains("nothing to trace", ex.Message);
    }
}
