namespace Vmtrace.Analysis.Tests;

/// <summary>
/// Wait causes on hand-made sequences. In each, vCPU 0 (thread 100) of vm1 runs on CPU 0, blocks at 100 (switched out
/// sleeping) and is woken at 1100, so the blocked interval is 1100 − 100 = 1000 ns; what wakes it decides where the
/// 1000 ns go. Threads of vm1: 99 main loop, 100 vCPU 0, 101 worker (qemu thread pool), 102 vCPU 1, 103 vhost-99.
/// Thread 500 is a host process.
/// </summary>
public class WaitCauseTests
{
    private static readonly VmInventory Vm1 = new("vm1", 99,
        [new(99, "qemu-system-x86"), new(100, "CPU 0/KVM"), new(101, "worker"), new(102, "CPU 1/KVM"), new(103, "vhost-99")], ["tap1"]);

    private static WaitCauses Run(ScriptedSource s, long end, out VmMetrics vm)
    {
        var (_, total, _) = AnalysisRun.Of(s, new AnalysisOptions { WindowNs = 1_000_000_000L }, [Vm1], end);
        vm = Assert.Single(total.Vms, v => v.Vm == "vm1");
        return Assert.Single(vm.Vcpus, v => v.VcpuId == 0).WaitCauses;
    }

    /// <summary>vCPU 0 runs on CPU 0 from 0 and sleeps at 100; CPU 1 runs <paramref name="cpu1Tid"/> from 0.</summary>
    private static ScriptedSource Blocked(int cpu1Tid, string cpu1Comm) => new ScriptedSource()
        .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
        .Switch(0, 1, 0, "swapper/1", 0, cpu1Tid, cpu1Comm)
        .Switch(100, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0");

    [Fact]
    public void OnEvent_WokenInTheHrtimerSoftirq_Timer()
    {
        var s = Blocked(500, "bash")
            .SoftirqEntry(1090, 1, 500, 8) // HRTIMER
            .Waking(1100, 1, 500, 100, 0)
            .SoftirqExit(1110, 1, 500, 8)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(1000, 0, 0, 0, 0, 0), Run(s, 1300, out var vm));
        Assert.Equal(1000, vm.WaitCauses.TimerNs);
    }

    [Fact]
    public void OnEvent_HrtimerFiresWhileAHostProcessRuns_TimerNotHost()
    {
        var s = Blocked(500, "bash")
            .HrtimerEntry(1090, 1, 500)
            .Waking(1100, 1, 500, 99, 1) // the main loop's timed sleep ends
            .HrtimerExit(1105, 1, 500)
            .Waking(1110, 1, 500, 101, 1) // after the handler: bash itself
            .Switch(1120, 1, 500, "bash", 0, 99, "qemu-system-x86")
            .Waking(1100 + 100, 1, 99, 100, 0)
            .Switch(1300, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        // Blocked 100 → 1200, woken by the main loop, which the timer woke.
        Assert.Equal(new WaitCauses(1100, 0, 0, 0, 0, 0), Run(s, 1400, out _));
    }

    [Fact]
    public void OnEvent_WokenFromIdleWithNoInterruptEvent_TheLocalTimer()
    {
        // CPU 1 idle; an interrupt was traced earlier (so device interrupts would show): the untraced one is the local timer.
        var s = Blocked(0, "swapper/1")
            .IrqEntry(10, 1, 0, 30, "virtio1-req.0")
            .IrqExit(20, 1, 0, 30)
            .Waking(1100, 1, 0, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(1000, Run(s, 1300, out _).TimerNs);
    }

    [Fact]
    public void OnEvent_BlockCompletionWakesWorkerWhichWakesMainLoopWhichWakesVcpu_Disk()
    {
        // The chain: a disk interrupt completes the worker's request and wakes it; the worker wakes the main loop; the main loop the vCPU.
        var s = Blocked(0, "swapper/1")
            .IrqEntry(1000, 1, 0, 31, "nvme0q1")
            .BlockComplete(1001, 1, 0, 8, 4096)
            .Waking(1002, 1, 0, 101, 1)
            .IrqExit(1003, 1, 0, 31)
            .Switch(1010, 1, 0, "swapper/1", 0, 101, "worker")
            .Waking(1020, 1, 101, 99, 1)
            .Switch(1030, 1, 101, "worker", 1, 99, "qemu-system-x86")
            .Waking(1100, 1, 99, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 1000, 0, 0, 0, 0), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_PacketQueuedOnTheTapWakesMainLoopWhichWakesVcpu_Net()
    {
        var s = Blocked(500, "iperf3")
            .Queue(1000, 1, 500, "tap1", 1500)
            .Waking(1001, 1, 500, 99, 1)
            .Xmit(1002, 1, 500, "tap1", 1500)
            .Waking(1010, 1, 500, 101, 1) // after the packet: the host process itself, no longer the network
            .Switch(1020, 1, 500, "iperf3", 1, 99, "qemu-system-x86")
            .Waking(1100, 1, 99, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 0, 1000, 0, 0, 0), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_VhostWakesVcpu_Net()
    {
        var s = Blocked(103, "vhost-99")
            .Waking(1100, 1, 103, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(1000, Run(s, 1300, out _).NetNs);
    }

    [Fact]
    public void OnEvent_AnotherVcpuOfTheVmWakesIt_Vcpu()
    {
        var s = Blocked(102, "CPU 1/KVM")
            .Waking(1100, 1, 102, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 0, 0, 1000, 0, 0), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_HostProcessWakesVcpu_Host()
    {
        var s = Blocked(500, "bash")
            .Waking(1100, 1, 500, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 0, 0, 0, 1000, 0), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_MainLoopWokenByNothingKnown_Unknown()
    {
        // The main loop's own wake-up was never seen: what it passes on is unknown.
        var s = Blocked(99, "qemu-system-x86")
            .Waking(1100, 1, 99, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 0, 0, 0, 0, 1000), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_BackOnCpuWithNoWakeupSeen_UnknownForTheWholeSleep()
    {
        // Blocked 100 → 1200 with no wake-up event: 1100 ns, unknown.
        var s = Blocked(500, "bash")
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.Equal(new WaitCauses(0, 0, 0, 0, 0, 1100), Run(s, 1300, out _));
    }

    [Fact]
    public void OnEvent_HaltedVcpuTakesTheLocalTimerVector_TimerOverTheWakeupChain()
    {
        // HLT exit at 50, blocked 100 → woken by a host process at 1100 (the chain says host), then kvm accepts vector
        // 0xec (the guest's local timer) for APIC 0 and the vCPU enters at 1300: the 1000 ns blocked go to the timer.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(0, 1, 0, "swapper/1", 0, 500, "bash")
            .Entry(10, 0, 100, 0)
            .Exit(50, 0, 100, 0, 12)
            .Switch(100, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Waking(1100, 1, 500, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .AcceptIrq(1250, 0, 100, 0, 0xec)
            .Entry(1300, 0, 100, 0);
        Assert.Equal(new WaitCauses(1000, 0, 0, 0, 0, 0), Run(s, 1400, out _));
    }

    [Fact]
    public void OnEvent_HaltedVcpuWithoutVector_KeepsTheWakeupChainsCause()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(0, 1, 0, "swapper/1", 0, 500, "bash")
            .Entry(10, 0, 100, 0)
            .Exit(50, 0, 100, 0, 12)
            .Switch(100, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Waking(1100, 1, 500, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(1300, 0, 100, 0);
        Assert.Equal(new WaitCauses(0, 0, 0, 0, 1000, 0), Run(s, 1400, out _));
    }

    [Fact]
    public void OnEvent_KvmOnlyTrace_HaltExitToEntryByInjectedVector()
    {
        // No scheduler events: each HLT exit → next entry of vCPU 0 is its wait. Exit 10 → entry 500 (490 ns) ends by an IPI
        // that vCPU 1 sends (kvm_apic_ipi, then kvm_apic_accept_irq for APIC 0 in vCPU 1's thread): vcpu.
        // Exit 600 → entry 1000 (400 ns) ends by vector 40 that vhost injects as an MSI: net.
        // Exit 1100 → entry 1400 (300 ns) ends by the local timer vector 0xec accepted in vCPU 0's own thread: timer.
        // Exit 1500 → entry 1550 (50 ns): an MSR write (reason 32), not a halt: not a wait.
        var s = new ScriptedSource()
            .Entry(0, 0, 100, 0)
            .Entry(0, 1, 102, 1)
            .Exit(10, 0, 100, 0, 12)
            .Exit(400, 1, 102, 1, 32)
            .ApicIpi(410, 1, 102, 0)
            .AcceptIrq(420, 1, 102, 0, 0xfd)
            .Entry(430, 1, 102, 1)
            .Entry(500, 0, 100, 0)
            .Exit(600, 0, 100, 0, 12)
            .MsiSetIrq(900, 2, 103)
            .AcceptIrq(901, 2, 103, 0, 40)
            .Entry(1000, 0, 100, 0)
            .Exit(1100, 0, 100, 0, 12)
            .AcceptIrq(1390, 0, 100, 0, 0xec)
            .Entry(1400, 0, 100, 0)
            .Exit(1500, 0, 100, 0, 32)
            .Entry(1550, 0, 100, 0);
        Assert.Equal(new WaitCauses(TimerNs: 300, DiskNs: 0, NetNs: 400, VcpuNs: 490, HostNs: 0, UnknownNs: 0), Run(s, 1600, out _));
    }

    [Fact]
    public void OnEvent_WaitCountedInTheWindowItEnds()
    {
        // Windows of 1000 ns: the wait 100 → 1100 lies in both, and is counted whole in the second.
        var s = Blocked(500, "bash")
            .Waking(1100, 1, 500, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        var (windows, _, _) = AnalysisRun.Of(s, new AnalysisOptions { WindowNs = 1000 }, [Vm1], 1300);
        Assert.Equal([0L, 1000L], windows.Select(w => Assert.Single(w.Vms, v => v.Vm == "vm1").WaitCauses.HostNs));
    }

    [Fact]
    public void SaveCheckpoint_DuringAWaitHeldForTheEntry_RestoredAnalysisChargesItTheSame()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(0, 1, 0, "swapper/1", 0, 500, "bash")
            .Entry(10, 0, 100, 0)
            .Exit(50, 0, 100, 0, 12)
            .Switch(100, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Waking(1100, 1, 500, 100, 0)
            .Switch(1200, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .AcceptIrq(1250, 0, 100, 0, 0xec)
            .Entry(1300, 0, 100, 0);
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 1_000_000_000L });
        analysis.AddInventory(Vm1);
        int n = 0;
        while (s.MoveNext())
        {
            if (n++ == 7) // after the wake-up and the switch back: the wait is held for the entry
            {
                Assert.Equal(1000, FindThread(analysis, 100).PendingWaitNs);
                analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
            }
            analysis.OnEvent(s.Current);
        }
        analysis.Flush(1400);
        var vm = Assert.Single(MetricsMerge.Total(analysis.TakeClosedWindows()).Vms, v => v.Vm == "vm1");
        Assert.Equal(new WaitCauses(1000, 0, 0, 0, 0, 0), vm.WaitCauses);
    }

    private static ThreadInfo FindThread(HostAnalysis analysis, int tid) =>
        analysis.Identity.TryGetThread(tid, out var t) ? t : throw new InvalidOperationException("no thread " + tid);

    [Theory]
    [InlineData("virtio1-req.0", "Disk")]
    [InlineData("nvme0q3", "Disk")]
    [InlineData("virtio3-input.0", "Net")]
    [InlineData("eth0", "Net")]
    [InlineData("hpet", "Timer")]
    [InlineData("i8042", "Unknown")]
    public void ClassifyIrqName_DriversNames(string name, string expected) =>
        Assert.Equal(expected, WaitCauseTrackerName(name));

    private static string WaitCauseTrackerName(string name) =>
        Trackers.WaitCauseTracker.ClassifyIrqName(System.Text.Encoding.ASCII.GetBytes(name)).ToString();
}
