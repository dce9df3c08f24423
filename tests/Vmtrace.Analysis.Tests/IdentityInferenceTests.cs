namespace Vmtrace.Analysis.Tests;

/// <summary>
/// <see cref="IdentityInference"/> on hand-written event sequences, one per kind of evidence. The real-trace cases
/// (plain trace-cmd, no tgids) are in <see cref="PlainTraceCmdSampleTests"/>. No LTTng kernel tracer runs on the
/// lab hosts and the stored LTTng traces hold no qemu process, so the statedump (tgid) case is synthetic: a
/// statedump written with LTTng's field names.
/// </summary>
public class IdentityInferenceTests
{
    private const string Qemu = "qemu-system-x86";

    /// <summary>
    /// The reported bug: one guest <c>-name demo3 -smp 2</c> under KVM, recorded with plain trace-cmd (no tgid, threads
    /// started before the recording, no debug-threads: every thread named like the process). Each of 40 ms, on 2
    /// pCPUs: vCPU 0 (tid 1005) and vCPU 1 (tid 1006) run kvm entry/exit and kick the main loop (1000) once; vCPU 0
    /// then yields to the main loop; a JVM (2000, 2001) runs the rest and wakes the main loop now and then.
    /// </summary>
    private static ScriptedSource KvmGuestWithoutNames()
    {
        var s = new ScriptedSource();
        for (int k = 0; k < 40; k++)
        {
            long t = 1_000_000_000L + k * 1_000_000L;
            s.Switch(t, 0, 2000, "java", 0, 1005, Qemu)
             .Switch(t + 2, 1, 2001, "java", 0, 1006, Qemu)
             .Entry(t + 1_000, 0, 1005, 0)
             .Entry(t + 2_000, 1, 1006, 1)
             .Exit(t + 300_000, 0, 1005, 0, 30)
             .Waking(t + 310_000, 0, 1005, 1000, Qemu)
             .Switch(t + 400_000, 0, 1005, Qemu, 0, 1000, Qemu)
             .Switch(t + 450_000, 0, 1000, Qemu, 1, 2000, "java");
            if (k % 4 == 0)
                s.Waking(t + 460_000, 0, 2000, 1000, Qemu);
            s.Exit(t + 500_000, 1, 1006, 1, 30)
             .Waking(t + 510_000, 1, 1006, 1000, Qemu)
             .Switch(t + 600_000, 1, 1006, Qemu, 0, 2001, "java");
        }
        return s;
    }

    [Fact]
    public void Infer_KvmGuestWithoutNamesOrTgids_OneVmWithBothVcpusAsAGuess()
    {
        var vm = Assert.Single(IdentityInference.Of(KvmGuestWithoutNames()));

        Assert.Equal(1000, vm.Pid);
        Assert.Equal([(1000, -1), (1005, 0), (1006, 1)], vm.Threads.Select(t => (t.Tid, t.VcpuIndex)));
        Assert.Equal(VmIdentity.Guess, vm.Identity);
    }

    [Fact]
    public void Analyze_KvmGuestWithoutNamesOrTgids_MainLoopIsTheVmsOwnNotAHostProcess()
    {
        // Before: each vCPU thread its own fallback VM, and the main loop a host process.
        var (_, before, _) = AnalysisRun.Of(KvmGuestWithoutNames());
        Assert.Equal(["qemu-t1005", "qemu-t1006"], before.Vms.Select(v => v.Vm).Order());
        Assert.Contains(before.Vms.Single(v => v.Vm == "qemu-t1005").Interferers, i => i.Culprit == "host:" + Qemu);

        var inventory = IdentityInference.Of(KvmGuestWithoutNames());
        var (_, total, _) = AnalysisRun.Of(KvmGuestWithoutNames(), inventory: inventory);

        var vm = Assert.Single(total.Vms);
        Assert.Equal("qemu-1000", vm.Vm);
        Assert.Equal(VmIdentity.Guess, vm.Identity);
        Assert.Equal([(0, 1005), (1, 1006)], vm.Vcpus.Select(v => (v.VcpuId, v.Tid)));
        // vCPU 0 is preempted by its own main loop (40 × 50 µs) and by the JVM; vCPU 1 only by the JVM.
        Assert.Contains(vm.Interferers, i => i.Culprit == "qemu-1000" && i.PreemptedNs == 40 * 50_000L);
        Assert.DoesNotContain(vm.Interferers, i => i.Culprit.StartsWith("host:qemu", StringComparison.Ordinal));
        // The main loop's 40 × 50 µs on CPU is the VM's own.
        Assert.Equal(vm.Vcpus.Sum(v => v.Times.OnCpuNs) + 40 * 50_000L, vm.ThreadsOnCpuNs);
    }

    [Fact]
    public void Infer_LttngStatedump_ThreadGroupsSayWhichThreadIsWhoseEvenAgainstWakeups()
    {
        var s = new ScriptedSource()
            .Statedump(1, 1000, 1000, Qemu).Statedump(2, 1001, 1001, Qemu)
            .Statedump(3, 1005, 1000, "CPU 0/KVM").Statedump(4, 1006, 1000, "CPU 1/KVM").Statedump(5, 1007, 1001, Qemu)
            .Statedump(6, 1010, 1000, "IO mon_iothread").Statedump(7, 1020, 1020, "vhost-1000")
            .Statedump(8, 2000, 2000, "java").Statedump(9, 2001, 2000, "java");
        for (int k = 0; k < 50; k++)
        {
            long t = 1_000 + k * 1_000L;
            s.Entry(t, 1, 1007, 0).Waking(t + 10, 0, 1005, 1001, Qemu); // a storm across two processes: still two VMs
        }
        var vms = IdentityInference.Of(s);

        Assert.Equal([1000, 1001], vms.Select(v => v.Pid));
        Assert.Equal([(1000, -1), (1005, 0), (1006, 1), (1010, -1), (1020, -1)], vms[0].Threads.Select(t => (t.Tid, t.VcpuIndex)));
        Assert.Equal([(1001, -1), (1007, 0)], vms[1].Threads.Select(t => (t.Tid, t.VcpuIndex)));
        Assert.All(vms, v => Assert.Equal(VmIdentity.Tgid, v.Identity));
    }

    [Fact]
    public void Infer_CreationEvents_ThreadsJoinTheirCreatorAndAnExecedChildLeaves()
    {
        var s = new ScriptedSource()
            .Exec(1, 0, 1000, "/usr/bin/qemu-system-x86_64")
            .NewThread(2, 0, 1000, 1005, Qemu).Fork(3, 0, 1000, Qemu, 1005)
            .Fork(4, 0, 1000, Qemu, 1006)                                   // ftrace fork alone: thread or process?
            .NewProcess(5, 0, 1000, 1030, Qemu).Fork(6, 0, 1000, Qemu, 1030).Exec(7, 1, 1030, "/usr/sbin/ip")
            .Fork(8, 0, 1005, Qemu, 1031).Exec(9, 1, 1031, "/bin/sh");       // a helper forked and exec'd: not the VM
        var vm = Assert.Single(IdentityInference.Of(s));

        Assert.Equal(1000, vm.Pid);
        Assert.Equal([1000, 1005, 1006], vm.Threads.Select(t => t.Tid));
        Assert.Equal(VmIdentity.Fork, vm.Identity);
    }

    [Fact]
    public void Infer_CreationEventsWithoutAnExec_IdentityIsFork()
    {
        var s = new ScriptedSource()
            .NewThread(2, 0, 1000, 1005, "CPU 0/TCG").Fork(3, 0, 1000, Qemu, 1005)
            .NewThread(4, 0, 1000, 1006, "CPU 1/TCG").Fork(5, 0, 1000, Qemu, 1006)
            .Switch(10, 0, 1000, Qemu, 1, 1005, "CPU 0/TCG");
        var vm = Assert.Single(IdentityInference.Of(s));

        Assert.Equal(1000, vm.Pid);
        Assert.Equal([(1000, -1), (1005, 0), (1006, 1)], vm.Threads.Select(t => (t.Tid, t.VcpuIndex)));
        Assert.Equal(VmIdentity.Fork, vm.Identity);
    }

    [Fact]
    public void Infer_BusyProcessesWakingEachOther_AreNeverVms()
    {
        var s = new ScriptedSource();
        for (int k = 0; k < 100; k++)
        {
            long t = 1_000 + k * 1_000L;
            s.Switch(t, 0, 3000, "postgres", 0, 3001, "postgres").Waking(t + 10, 0, 3001, 3000, "postgres")
             .Switch(t + 20, 1, 4000, "dotnet", 0, 4001, ".NET TP Worker").Waking(t + 30, 1, 4001, 4000, "dotnet");
        }
        Assert.Empty(IdentityInference.Of(s));
    }
}
