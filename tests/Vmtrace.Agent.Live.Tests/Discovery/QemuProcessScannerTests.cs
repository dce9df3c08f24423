using Vmtrace.Agent.Live.Discovery;

namespace Vmtrace.Agent.Live.Tests.Discovery;

/// <summary>VM discovery on a /proc tree written by the test (names, uuid, threads, taps, libvirt domains).</summary>
public sealed class QemuProcessScannerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmtrace-proc-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Process(int pid, string comm, string[] argv, (int Tid, string Comm)[] threads, string[]? taps = null)
    {
        string dir = Path.Combine(_root, "proc", pid.ToString());
        Directory.CreateDirectory(Path.Combine(dir, "fdinfo"));
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        File.WriteAllText(Path.Combine(dir, "cmdline"), string.Join('\0', argv) + "\0");
        foreach (var (tid, tcomm) in threads)
        {
            Directory.CreateDirectory(Path.Combine(dir, "task", tid.ToString()));
            File.WriteAllText(Path.Combine(dir, "task", tid.ToString(), "comm"), tcomm + "\n");
        }
        int fd = 3;
        foreach (var tap in taps ?? [])
            File.WriteAllText(Path.Combine(dir, "fdinfo", (fd++).ToString()), $"pos:\t0\nflags:\t02\nmnt_id:\t25\niff:\t{tap}\n");
        File.WriteAllText(Path.Combine(dir, "fdinfo", "0"), "pos:\t0\nflags:\t02\n");
    }

    [Fact]
    public void Scan_QemuWithDebugThreadsName_NamesVmThreadsAndTaps()
    {
        Process(100, "qemu-system-x86", ["/usr/bin/qemu-system-x86_64", "-name", "guest=web,,1,debug-threads=on", "-uuid", "0b7a0a4e-1c4d-4c1e-9a51-6f4f2b8a0f10",
            "-netdev", "tap,id=n0,ifname=tapweb,script=no"], [(100, "qemu-system-x86"), (101, "CPU 0/KVM"), (102, "CPU 1/KVM"), (103, "worker"), (104, "vhost-100")], ["tapweb", "tapextra"]);
        Process(200, "bash", ["/bin/bash"], [(200, "bash")]);
        var vms = new QemuProcessScanner(Path.Combine(_root, "proc"), Path.Combine(_root, "libvirt")).Scan();
        var vm = Assert.Single(vms);
        Assert.Equal("web,1", vm.Name);
        Assert.Equal(100, vm.Pid);
        Assert.Equal("0b7a0a4e-1c4d-4c1e-9a51-6f4f2b8a0f10", vm.Uuid);
        Assert.Equal(["tapweb", "tapextra"], vm.TapDevices.OrderBy(t => t != "tapweb").ToArray());
        Assert.Equal([-1, 0, 1, -1, -1], vm.Threads.Select(t => t.VcpuIndex).ToArray());
        var inv = vm.ToInventory();
        Assert.Equal(5, inv.Threads.Count);
        Assert.Equal("vhost-100", inv.Threads[4].Comm);
    }

    [Fact]
    public void Scan_PlainNameAndLibvirtPidFile_UsesNameThenDomain()
    {
        Process(300, "qemu-system-x86", ["qemu-system-x86_64", "-name", "db"], [(300, "qemu-system-x86")]);
        Process(400, "qemu-kvm", ["/usr/libexec/qemu-kvm", "-m", "512"], [(400, "qemu-kvm")]);
        Process(500, "qemu-system-x86", ["qemu-system-x86_64"], [(500, "qemu-system-x86")]);
        Directory.CreateDirectory(Path.Combine(_root, "libvirt"));
        File.WriteAllText(Path.Combine(_root, "libvirt", "billing.pid"), "400\n");
        var vms = new QemuProcessScanner(Path.Combine(_root, "proc"), Path.Combine(_root, "libvirt")).Scan();
        Assert.Equal(["db", "billing", "qemu-500"], vms.Select(v => v.Name).ToArray());
        Assert.Equal("billing", vms[1].LibvirtDomain);
    }

    [Fact]
    public void ShouldSend_SameScanTwiceThenThreadAdded_SendsFirstAndOnChangeAndPeriodically()
    {
        var tracker = new InventoryTracker(TimeSpan.FromSeconds(60));
        var a = new DiscoveredVm("a", 1, "", null, [new DiscoveredThread(1, "qemu", -1)], [], null);
        var b = a with { Threads = [.. a.Threads, new DiscoveredThread(2, "CPU 0/KVM", 0)] };
        Assert.True(tracker.ShouldSend([a], 0));
        Assert.False(tracker.ShouldSend([a], 1000));
        Assert.True(tracker.ShouldSend([b], 2000));
        Assert.False(tracker.ShouldSend([b], 61_000));
        Assert.True(tracker.ShouldSend([b], 62_000));
    }

    [Theory]
    [InlineData("CPU 0/KVM", 0)]
    [InlineData("CPU 12/TCG", 12)]
    [InlineData("worker", -1)]
    [InlineData("CPU x/KVM", -1)]
    public void VcpuIndex_ThreadName_ParsesIndex(string comm, int expected) => Assert.Equal(expected, QemuProcessScanner.VcpuIndex(comm));
}
