namespace Vmtrace.Analysis.Tests.Nested;

/// <summary>
/// Nested virtualisation on synthetic traces (no nested KVM was traced on the development machines): an L1 VM's vCPU threads
/// run L2 guests, and each L2 vCPU's time is split into L2 running, L1 root, L0 root, L1 preempted and blocked
/// (docs/metrics.md, "Nested VMs"). The expected figures are derived by hand from the scripted timestamps, interval by
/// interval, in the comments next to them.
/// </summary>
public class NestedTrackerTests
{
    private const int VmxExternalInterrupt = 1, VmxHlt = 12, VmxVmread = 23, VmxVmresume = 24, VmxIo = 30, VmxEptViolation = 48, VmxCpuid = 10;

    private static readonly VmInventory L1Vm = new("vmL1", 100, [new InventoryThread(101, "CPU 0/KVM"), new InventoryThread(102, "CPU 1/KVM")], []);

    /// <summary>
    /// CPU 0: L1 vCPU 0 (tid 101) runs L2 vCPU A (vmcs12 0xa000) of the L2 whose EPT root is 0x5000: exits L0 handles, an exit
    /// reflected to the L1, the L1's own exits while it handles it, host preemption in L1 root and in L0 root, the L1 halting.
    /// CPU 1: L1 vCPU 1 (tid 102) runs L2 vCPU B (vmcs12 0xb000) of the same L2, then switches to vCPU C (vmcs12 0xc000) of another
    /// L2 (EPT root 0x7000), still running it at the end (90 µs).
    /// </summary>
    internal static ScriptedSource TwoL2Guests() => new ScriptedSource()
        .Switch(1_000, 0, 0, "swapper/0", 0, 101, "CPU 0/KVM")
        .Switch(1_500, 1, 0, "swapper/1", 0, 102, "CPU 1/KVM")
        .Entry(2_000, 0, 101, 0)
        .Entry(3_000, 1, 102, 1)
        // A: the L1's first VMRESUME; its exit handling before kvm_nested_vmenter (10 000 → 10 500) is before any nested context.
        .Exit(10_000, 0, 101, 0, VmxVmresume)
        .NestedVmenter(10_500, 0, 101, 0xa000, 0x5000)
        .Entry(11_000, 0, 101, 0)
        .Exit(20_000, 1, 102, 1, VmxVmresume)
        .NestedVmenter(20_100, 1, 102, 0xb000, 0x5000)
        .Entry(20_300, 1, 102, 1)
        .Exit(21_000, 0, 101, 0, VmxIo)
        .NestedVmexit(21_100, 0, 101, 0, VmxIo)
        .Entry(22_000, 0, 101, 0)                      // L0 handled it: back into the L2
        .Exit(30_300, 1, 102, 1, VmxIo)
        .NestedVmexit(30_400, 1, 102, 1, VmxIo)
        .Entry(30_500, 1, 102, 1)
        .Exit(32_000, 0, 101, 0, VmxEptViolation)
        .NestedVmexit(32_200, 0, 101, 0, VmxEptViolation)
        .NestedVmexitInject(32_500, 0, 101, VmxEptViolation)
        .Entry(33_000, 0, 101, 0)                      // into the L1: L1 root
        .Exit(38_000, 0, 101, 0, VmxVmread)            // the L1 exits while handling it
        .Entry(38_400, 0, 101, 0)
        .Exit(40_000, 0, 101, 0, VmxExternalInterrupt)
        .Switch(40_100, 0, 101, "CPU 0/KVM", 0, 500, "stress")     // preempted in L1 root
        .Exit(45_500, 1, 102, 1, VmxCpuid)
        .NestedVmexit(45_600, 1, 102, 1, VmxCpuid)
        .NestedVmexitInject(45_700, 1, 102, VmxCpuid)
        .Entry(46_000, 1, 102, 1)
        .Exit(50_000, 1, 102, 1, VmxVmresume)
        .Switch(50_100, 0, 500, "stress", 0, 101, "CPU 0/KVM")
        .NestedVmenter(50_100, 1, 102, 0xc000, 0x7000)             // vCPU 1 of the L1 now enters another L2
        .Entry(50_300, 0, 101, 0)
        .Entry(50_500, 1, 102, 1)
        .Exit(55_000, 0, 101, 0, VmxVmresume)
        .NestedVmenter(55_400, 0, 101, 0xa000, 0x5000)
        .Entry(56_000, 0, 101, 0)
        .Exit(60_000, 0, 101, 0, VmxExternalInterrupt)
        .NestedVmexit(60_100, 0, 101, 0, VmxExternalInterrupt)
        .Switch(60_200, 0, 101, "CPU 0/KVM", 0, 500, "stress")     // preempted in L0 root
        .Switch(70_200, 0, 500, "stress", 0, 101, "CPU 0/KVM")
        .Entry(70_500, 0, 101, 0)
        .Exit(80_000, 0, 101, 0, VmxHlt)                           // the L2 halts; the exit goes to the L1
        .NestedVmexit(80_100, 0, 101, 0, VmxHlt)
        .NestedVmexitInject(80_200, 0, 101, VmxHlt)
        .Entry(81_000, 0, 101, 0)
        .Exit(85_000, 0, 101, 0, VmxHlt)                           // the L1 halts: no longer working for the L2
        .Switch(85_500, 0, 101, "CPU 0/KVM", 1, 0, "swapper/0");

    private static (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total, HostAnalysis Analysis) Run(ScriptedSource source, long windowNs = 1_000_000_000) =>
        AnalysisRun.Of(source, new AnalysisOptions { WindowNs = windowNs }, [L1Vm], endTime: 90_000);

    private static NestedVcpuMetrics Vcpu(WindowMetrics w, string l2, int vcpu) =>
        Assert.Single(Assert.Single(Assert.Single(w.Vms, v => v.Vm == "vmL1").Nested, g => g.L2 == l2).Vcpus, v => v.Vcpu == vcpu);

    [Fact]
    public void TwoL2Guests_EachL2VcpuTime_SplitByState()
    {
        var (_, total, analysis) = Run(TwoL2Guests());

        var vm = Assert.Single(total.Vms);
        Assert.Equal(["ept:0x5000", "ept:0x7000"], vm.Nested.Select(g => g.L2));
        Assert.Equal([0, 1], vm.Nested[0].Vcpus.Select(v => v.Vcpu));

        var a = Vcpu(total, "ept:0x5000", 0);
        Assert.Equal("0xa000", a.Vmcs);
        Assert.Equal(0, a.L1Vcpu);
        // L2 running: 11 000→21 000, 22 000→32 000, 56 000→60 000, 70 500→80 000.
        Assert.Equal(10_000 + 10_000 + 4_000 + 9_500, a.Times.L2RunningNs);
        // L1 root (in guest, running the L1 for it): 33 000→38 000, 38 400→40 000, 50 300→55 000, 81 000→85 000.
        Assert.Equal(5_000 + 1_600 + 4_700 + 4_000, a.Times.L1RootNs);
        // L0 root (on CPU out of guest): 10 500→11 000, 21 000→22 000, 32 000→33 000, 38 000→38 400, 40 000→40 100, 50 100→50 300,
        // 55 000→56 000, 60 000→60 200, 70 200→70 500, 80 000→81 000.
        Assert.Equal(500 + 1_000 + 1_000 + 400 + 100 + 200 + 1_000 + 200 + 300 + 1_000, a.Times.L0RootNs);
        // L1 preempted: 40 100→50 100 (in L1 root), 60 200→70 200 (in L0 root).
        Assert.Equal(20_000, a.Times.L1PreemptedNs);
        Assert.Equal(0, a.Times.BlockedNs);
        // Its context: 10 500 (kvm_nested_vmenter) → 85 000 (the L1's HLT).
        Assert.Equal(85_000 - 10_500, a.Times.TotalNs);
        Assert.Equal(4, a.L2Exits);            // 21 000, 32 000, 60 000, 80 000
        Assert.Equal(2, a.ReflectedExits);     // 32 500, 80 200
        Assert.Equal(2, a.L1Exits);            // VMREAD at 38 000, the interrupt at 40 000 (not the VMRESUME, not the HLT)

        var b = Vcpu(total, "ept:0x5000", 1);
        Assert.Equal("0xb000", b.Vmcs);
        Assert.Equal(1, b.L1Vcpu);
        Assert.Equal(10_000 + 15_000, b.Times.L2RunningNs);          // 20 300→30 300, 30 500→45 500
        Assert.Equal(4_000, b.Times.L1RootNs);                       // 46 000→50 000
        // 20 100→20 300, 30 300→30 500, 45 500→46 000, and the VMRESUME at 50 000 until kvm_nested_vmenter names C at 50 100.
        Assert.Equal(200 + 200 + 500 + 100, b.Times.L0RootNs);
        Assert.Equal((2L, 1L, 0L), (b.L2Exits, b.ReflectedExits, b.L1Exits));

        var c = Vcpu(total, "ept:0x7000", 0);
        Assert.Equal("0xc000", c.Vmcs);
        Assert.Equal(400, c.Times.L0RootNs);                         // 50 100→50 500
        Assert.Equal(90_000 - 50_500, c.Times.L2RunningNs);          // still running the L2 at the end
        Assert.Equal(0, c.L2Exits);

        Assert.Equal(0, analysis.Counters.NestedEventsOutOfSequence);
        // The L1 vCPUs' own figures are those of any VM: their guest time holds the L2's and the L1's.
        var l1Vcpu0 = Assert.Single(vm.Vcpus, v => v.VcpuId == 0);
        Assert.Equal(a.Times.L2RunningNs + a.Times.L1RootNs + (10_000 - 2_000), l1Vcpu0.Times.GuestNs);
    }

    [Fact]
    public void TwoL2Guests_ShortWindows_SplitAtTheBoundariesAndSumToTheTotal()
    {
        var (whole, _, _) = Run(TwoL2Guests());
        var (windows, total, _) = Run(TwoL2Guests(), windowNs: 25_000);

        Assert.Equal(4, windows.Count);
        // A's L2 run 22 000→32 000 crosses 25 000: 7 000 of it in [25 000, 50 000), with 11 000→21 000 and 22 000→25 000 before.
        Assert.Equal(7_000, Vcpu(windows[1], "ept:0x5000", 0).Times.L2RunningNs);
        Assert.Equal(13_000, Vcpu(windows[0], "ept:0x5000", 0).Times.L2RunningNs);
        // A's preemption 40 100→50 100 crosses 50 000: 100 ns of it in [50 000, 75 000), with 60 200→70 200.
        Assert.Equal(10_100, Vcpu(windows[2], "ept:0x5000", 0).Times.L1PreemptedNs);
        Assert.Equal(Text(Assert.Single(whole).Vms), Text(total.Vms));
    }

    [Fact]
    public void HostWithoutNestedEvents_NoNestedOutput()
    {
        // A plain L0 host: the same L1 vCPU thread enters and exits (even with a VMRESUME exit reason: without nested events
        // nothing is taken for nested), preempted once.
        var source = new ScriptedSource()
            .Switch(1_000, 0, 0, "swapper/0", 0, 101, "CPU 0/KVM")
            .Entry(2_000, 0, 101, 0)
            .Exit(10_000, 0, 101, 0, VmxIo)
            .Entry(11_000, 0, 101, 0)
            .Exit(20_000, 0, 101, 0, VmxVmresume)
            .Switch(20_100, 0, 101, "CPU 0/KVM", 0, 500, "stress")
            .Switch(30_100, 0, 500, "stress", 0, 101, "CPU 0/KVM")
            .Entry(30_500, 0, 101, 0);
        var (windows, total, analysis) = Run(source);

        Assert.NotEmpty(windows);
        Assert.All(windows, w => Assert.All(w.Vms, vm => Assert.Empty(vm.Nested)));
        Assert.Empty(Assert.Single(total.Vms).Nested);
        Assert.False(analysis.Nested.Active);
        Assert.Equal(0, analysis.Counters.NestedEventsOutOfSequence);
    }

    [Fact]
    public void OddSequences_CountedAndIgnored()
    {
        var source = new ScriptedSource()
            .Switch(1_000, 0, 0, "swapper/0", 0, 101, "CPU 0/KVM")
            .Entry(2_000, 0, 101, 0)
            .Exit(10_000, 0, 101, 0, VmxIo)
            .NestedVmexit(10_100, 0, 101, 0, VmxIo)            // 1: a nested exit without an entry into an L2
            .NestedVmexitInject(10_200, 0, 101, VmxIo)         // 2: reflected without one
            .Entry(11_000, 0, 101, 0)
            .Switch(12_000, 1, 0, "swapper/1", 0, 500, "stress")
            .NestedVmenter(12_500, 1, 500, 0xa000, 0x5000)     // 3: a host process, no VM's vCPU
            .Exit(20_000, 0, 101, 0, VmxVmresume)
            .NestedVmenter(20_200, 0, 101, 0xa000, 0x5000)
            .Entry(20_500, 0, 101, 0)
            // The L2's kvm_exit is missing: a host event of the thread while in guest. The L2 run since 20 500 is taken back (4:
            // its context ends) and the nested exit then fits no L2 run (5).
            .NestedVmexit(30_000, 0, 101, 0, VmxIo)
            .Entry(31_000, 0, 101, 0);
        var (_, total, analysis) = Run(source);

        Assert.Equal(5, analysis.Counters.NestedEventsOutOfSequence);
        Assert.Equal(1, analysis.Counters.LostExits);
        var a = Vcpu(total, "ept:0x5000", 0);
        Assert.Equal(0, a.Times.L2RunningNs);
        Assert.Equal(300, a.Times.L0RootNs);                   // 20 200→20 500: before the lost exit
        Assert.Equal(300, a.Times.TotalNs);
        Assert.Equal(0, analysis.Nested.ThreadsInNestedContext);
    }

    /// <summary>
    /// The research's events (Nemati's fork): VMRESUME exits and addons_vcpu_enter_guest, whose CR3 names the L2 by the L1
    /// process that runs it, no kvm_nested_vmenter or _inject. An entry with that L1 CR3 after an exit of the L2 is the L1 handling it.
    /// </summary>
    [Fact]
    public void ResearchEnterGuestEvents_L2NamedByL1Cr3()
    {
        var source = new ScriptedSource()
            .Switch(1_000, 0, 0, "swapper/0", 0, 101, "CPU 0/KVM")
            .EnterGuest(2_000, 0, 101, 0, 0x1111)
            .Entry(2_000, 0, 101, 0)
            .Exit(10_000, 0, 101, 0, VmxVmresume)
            .EnterGuest(10_500, 0, 101, 0, 0x9999)            // the L2 process's CR3: the L2 is the L1's 0x1111
            .Entry(11_000, 0, 101, 0)
            .Exit(21_000, 0, 101, 0, VmxIo)
            .NestedVmexit(21_100, 0, 101, 0, VmxIo)
            .EnterGuest(21_500, 0, 101, 0, 0x9999)            // back into the L2: L0 handled it
            .Entry(22_000, 0, 101, 0)
            .Exit(32_000, 0, 101, 0, VmxEptViolation)
            .NestedVmexit(32_100, 0, 101, 0, VmxEptViolation)
            .EnterGuest(32_600, 0, 101, 0, 0x1111)            // into the L1: reflected
            .Entry(33_000, 0, 101, 0)
            .Exit(40_000, 0, 101, 0, VmxVmresume)
            .EnterGuest(40_400, 0, 101, 0, 0x9999)
            .Entry(41_000, 0, 101, 0);
        var (_, total, analysis) = AnalysisRun.Of(source, new AnalysisOptions(), [L1Vm], endTime: 50_000);

        var a = Vcpu(total, "l1cr3:0x1111", 0);
        Assert.Null(MetricSchema.NestedFigures.Vmcs.ReadText(a));
        Assert.Equal(10_000 + 10_000 + 9_000, a.Times.L2RunningNs);        // 11 000→21 000, 22 000→32 000, 41 000→50 000
        Assert.Equal(7_000, a.Times.L1RootNs);                              // 33 000→40 000
        Assert.Equal(500 + 1_000 + 1_000 + 400 + 600, a.Times.L0RootNs);    // 10 500→11 000, 21 000→22 000, 32 000→33 000, 40 000→41 000
        Assert.Equal((2L, 1L), (a.L2Exits, a.ReflectedExits));
        Assert.Equal(0, analysis.Counters.NestedEventsOutOfSequence);
    }

    internal static string Text(IEnumerable<VmMetrics> vms) =>
        string.Join('\n', vms.SelectMany(vm => vm.Nested.SelectMany(g => g.Vcpus.Select(v => $"{vm.Vm} {g.L2} {v}"))));
}
