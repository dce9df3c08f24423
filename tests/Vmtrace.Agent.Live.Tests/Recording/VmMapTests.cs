using System.Text.Json;
using Vmtrace.Agent.Live.Recording;
using Vmtrace.Analysis;

namespace Vmtrace.Agent.Live.Tests.Recording;

/// <summary>The VM map <c>vmtrace record</c> takes from /proc (a tree written by the test) and writes as vmmap.json.</summary>
public sealed class VmMapTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmtrace-vmmap-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Proc => Path.Combine(_root, "proc");

    private void Process(int pid, string comm, string[] argv, (int Tid, string Comm)[] threads, string? cwd = null)
    {
        string dir = Path.Combine(Proc, pid.ToString());
        Directory.CreateDirectory(Path.Combine(dir, "fdinfo"));
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        File.WriteAllText(Path.Combine(dir, "cmdline"), string.Join('\0', argv) + "\0");
        foreach (var (tid, tcomm) in threads)
        {
            Directory.CreateDirectory(Path.Combine(dir, "task", tid.ToString()));
            File.WriteAllText(Path.Combine(dir, "task", tid.ToString(), "comm"), tcomm + "\n");
        }
        if (cwd is not null)
            File.CreateSymbolicLink(Path.Combine(dir, "cwd"), cwd);
    }

    private static VmMap Map(List<RecordedVm> vms) => new()
    {
        Host = "lab",
        Kernel = "6.18.0",
        Cpus = 2,
        StartRealtimeNs = 1_796_585_472_000_000_000,
        Clock = new RecordedClock("tai", -37_000_000_000, OffsetStoredInTrace: true),
        TraceWriter = "trace-cmd 3.1.6",
        Instance = "vmtrace-record-1",
        BufferSizeKb = 8192,
        Events = ["sched:sched_switch"],
        MissingEvents = ["kvm:kvm_entry"],
        Vms = vms,
    };

    /// <summary>A KVM guest with two vCPUs, a vhost kernel thread (pre-6.4: a process of its own named vhost-PID) and a relative -D log.</summary>
    private void KvmGuest()
    {
        string work = Path.Combine(_root, "work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "web.log"), "1@1.000000:runstate_set x\n");
        Process(300, "qemu-system-x86", ["/usr/bin/qemu-system-x86_64", "-name", "guest=web,debug-threads=on", "-uuid", "1b7a0a4e-1c4d-4c1e-9a51-6f4f2b8a0f10",
            "-netdev", "tap,id=n0,ifname=tapweb,script=no,vhost=on", "-trace", "events=ev.txt", "-D", "web.log"],
            [(300, "qemu-system-x86"), (301, "call_rcu"), (302, "CPU 0/KVM"), (303, "CPU 1/KVM")], cwd: work);
        Process(310, "vhost-300", [], [(310, "vhost-300")]);
        Process(320, "vhost-999", [], [(320, "vhost-999")]);
        Process(400, "bash", ["/bin/bash"], [(400, "bash")]);
    }

    [Fact]
    public void ScanVms_KvmGuestWithVhostWorker_RolesVcpusTapsAndAbsoluteLog()
    {
        KvmGuest();
        var vm = Assert.Single(VmMap.ScanVms(Proc, atStart: true));
        Assert.Equal("web", vm.Name);
        Assert.Equal(300, vm.Pid);
        Assert.Equal(["tapweb"], vm.Taps);
        Assert.Equal(
            [(300, "main", -1), (301, "other", -1), (302, "vcpu", 0), (303, "vcpu", 1), (310, "vhost", -1)],
            vm.Threads.Select(t => (t.Tid, t.Role, t.Vcpu)).ToArray());
        Assert.Equal(Path.Combine(_root, "work", "web.log"), vm.QemuLogSource);
        Assert.Equal(new FileInfo(Path.Combine(_root, "work", "web.log")).Length, vm.QemuLogStartOffset);
        Assert.StartsWith("/usr/bin/qemu-system-x86_64 -name guest=web,debug-threads=on", vm.Cmdline, StringComparison.Ordinal);
        Assert.True(vm.SeenAtStart);
    }

    [Fact]
    public void ToJson_ReadByVmMapJson_SameVmsThreadsAndTaps()
    {
        KvmGuest();
        var map = Map(VmMap.ScanVms(Proc, atStart: true));
        var read = Assert.Single(VmMapJson.Parse(map.ToJson()));
        Assert.Equal("web", read.Name);
        Assert.Equal(300, read.Pid);
        Assert.Equal([300, 301, 302, 303, 310], read.Threads.Select(t => t.Tid).ToArray());
        Assert.Equal(["qemu-system-x86", "call_rcu", "CPU 0/KVM", "CPU 1/KVM", "vhost-300"], read.Threads.Select(t => t.Comm).ToArray());
        Assert.Equal(["tapweb"], read.TapDevices);
    }

    [Fact]
    public void ToJson_ClockAndTraceFields_AsDocumented()
    {
        var map = Map([]);
        map.EndRealtimeNs = 1_796_585_475_000_000_000;
        using var doc = JsonDocument.Parse(map.ToJson());
        var root = doc.RootElement;
        Assert.Equal("vmtrace-vmmap/1", root.GetProperty("format").GetString());
        Assert.Equal("tai", root.GetProperty("clock").GetProperty("trace_clock").GetString());
        Assert.Equal(-37_000_000_000, root.GetProperty("clock").GetProperty("realtime_minus_trace_clock_ns").GetInt64());
        Assert.True(root.GetProperty("clock").GetProperty("offset_stored_in_trace").GetBoolean());
        Assert.Equal(1_796_585_475_000_000_000, root.GetProperty("end_realtime_ns").GetInt64());
        Assert.Equal("kvm:kvm_entry", root.GetProperty("trace").GetProperty("missing_events")[0].GetString());
    }

    [Fact]
    public void Merge_LaterScan_AddsNewThreadsAndVmsKeepsFirstSeen()
    {
        KvmGuest();
        var map = Map(VmMap.ScanVms(Proc, atStart: true));
        Directory.CreateDirectory(Path.Combine(Proc, "300", "task", "305"));
        File.WriteAllText(Path.Combine(Proc, "300", "task", "305", "comm"), "worker\n");
        Process(500, "qemu-system-x86", ["/usr/bin/qemu-system-x86_64", "-name", "db"], [(500, "qemu-system-x86"), (501, "CPU 0/TCG")]);
        map.Merge(VmMap.ScanVms(Proc, atStart: false));
        Assert.Equal([300, 500], map.Vms.Select(v => v.Pid).ToArray());
        Assert.Contains(map.Vms[0].Threads, t => t.Tid == 305 && t.Comm == "worker");
        Assert.True(map.Vms[0].SeenAtStart);
        Assert.False(map.Vms[1].SeenAtStart);
    }
}
