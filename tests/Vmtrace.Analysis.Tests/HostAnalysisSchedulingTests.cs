namespace Vmtrace.Analysis.Tests;

/// <summary>Hand-made sequences: every expected figure is worked out in the comments from the event times.</summary>
public class HostAnalysisSchedulingTests
{
    private static readonly VmInventory Vm1 = new("vm1", 99, [new(99, "qemu-system-x86"), new(100, "CPU 0/KVM"), new(101, "worker")], ["tap1"]);
    private static readonly VmInventory Vm2 = new("vm2", 199, [new(199, "qemu-system-x86"), new(200, "CPU 0/KVM")], []);

    private static (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total, HostAnalysis Analysis) Run(
        ScriptedSource s, long end, long window = 1_000_000_000L, long? from = null) =>
        AnalysisRun.Of(s, new AnalysisOptions { WindowNs = window, FromNs = from }, [Vm1, Vm2], end);

    private static VcpuMetrics Vcpu(WindowMetrics total, string vm) => Assert.Single(Assert.Single(total.Vms, v => v.Vm == vm).Vcpus);

    [Fact]
    public void OnEvent_VcpuPreemptedByHostTask_SplitsTimeAndNamesCulprit()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(10, 0, 100, 0)
            .Exit(50, 0, 100, 0, 1)
            .Switch(60, 0, 100, "CPU 0/KVM", 0, 300, "stress")   // runnable: preempted
            .Switch(90, 0, 300, "stress", 1, 100, "CPU 0/KVM")
            .Entry(100, 0, 100, 0);
        var (_, total, _) = Run(s, 100);

        var v = Vcpu(total, "vm1");
        Assert.Equal(new CpuTimes(GuestNs: 40, HostNs: 10 + 10 + 10, PreemptedNs: 30, WaitNs: 0, BlockedNs: 0, BlockedQueuedNs: 0), v.Times);
        var exit = Assert.Single(v.Exits);
        Assert.Equal((1, 1L, 50L), (exit.Reason, exit.Latency.Count, exit.Latency.SumNs)); // exit 50 → entry 100
        Assert.Equal([new Interference("host:stress", 30)], Assert.Single(total.Vms, x => x.Vm == "vm1").Interferers);
    }

    [Fact]
    public void OnEvent_WakeupPreemptionWithoutStatRuntime_OnCpuFromSwitches()
    {
        var (_, total, _) = Run(WakeupPreemption(withRuntime: false), 100);
        // vCPU 0-60 and 80-100, worker 60-80: on-CPU time between the switches.
        Assert.Equal(60 + 20 + 20, Assert.Single(total.Vms, v => v.Vm == "vm1").ThreadsOnCpuNs);
    }

    [Fact]
    public void OnEvent_WakeupPreemptionWithStatRuntime_OnCpuIsWhatTheKernelCharged()
    {
        var (_, total, _) = Run(WakeupPreemption(withRuntime: true), 100);
        // The kernel charged the vCPU up to the wake-up (50) and the worker from it: 50 + 30 + 20, not the
        // switch times' 60 + 20 + 20.
        var vm1 = Assert.Single(total.Vms, v => v.Vm == "vm1");
        Assert.Equal(50 + 30 + 20, vm1.ThreadsOnCpuNs);
        // The vCPU's states follow the kernel's books too: run 0-50 (its charged 50) and 80-100, run-queue
        // wait 50-80 (what its schedstat wait, the guest's steal time, counts), preempted by its own VM's worker.
        Assert.Equal(new CpuTimes(0, 50 + 20, 30, 0, 0, 0), Vcpu(total, "vm1").Times);
        Assert.Equal([new Interference("vm1", 30)], vm1.Interferers);
    }

    [Fact]
    public void OnEvent_WakeupFromAnotherCpuChargesTheRunningVcpu_SwitchAtThatClock()
    {
        // The waker on CPU 1 holds CPU 0's run queue: its update charges the running vCPU 40 (0-40) in an event
        // recorded on CPU 1. The switch at 60 charges nothing more (the clock stayed at 40): in the kernel's books
        // the vCPU ran 0-40 and waited 40-80 while the worker (vm1's, charged 40 at 80) ran.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Wakeup(40, 1, 555, 101, 0)
            .StatRuntime(40, 1, 555, 100, "CPU 0/KVM", 40)
            .Switch(60, 0, 100, "CPU 0/KVM", 0, 101, "worker")
            .StatRuntime(80, 0, 101, 101, "worker", 40)
            .Switch(80, 0, 101, "worker", 1, 100, "CPU 0/KVM")
            .StatRuntime(100, 0, 100, 100, "CPU 0/KVM", 20);
        var (_, total, _) = Run(s, 100);
        Assert.Equal(new CpuTimes(0, 40 + 20, 40, 0, 0, 0), Vcpu(total, "vm1").Times);
        Assert.Equal(40 + 40 + 20, Assert.Single(total.Vms, v => v.Vm == "vm1").ThreadsOnCpuNs);
    }

    [Fact]
    public void OnEvent_RealTimeVcpuWithoutStatRuntime_KeepsSwitchTimesAndOnCpu()
    {
        // vm2's vCPU (200) runs SCHED_FIFO: the kernel has no run-time tracepoint for it, while the host's other
        // threads report theirs. Its on-CPU time is the time between its switches, 0-60 and 90-100 (no run time
        // of its own moves them); the worker's is what the kernel charged it, 60-90.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 200, "CPU 0/KVM")
            .Wakeup(50, 0, 200, 101, 0)
            .Switch(60, 0, 200, "CPU 0/KVM", 0, 101, "worker")
            .StatRuntime(90, 0, 101, 101, "worker", 30)
            .Switch(90, 0, 101, "worker", 1, 200, "CPU 0/KVM");
        var (_, total, _) = Run(s, 100);
        Assert.Equal(new CpuTimes(0, 60 + 10, 30, 0, 0, 0), Vcpu(total, "vm2").Times);
        Assert.Equal(60 + 10, Assert.Single(total.Vms, v => v.Vm == "vm2").ThreadsOnCpuNs);
        Assert.Equal(30, Assert.Single(total.Vms, v => v.Vm == "vm1").ThreadsOnCpuNs);
    }

    [Fact]
    public void OnEvent_FirstRunTimeReportAfterAWindowClose_CountsTheRunOnce()
    {
        // The vCPU runs from 0; the window closing at 50 counts its 50 ns from the switch (no report yet). Its
        // first report, at 80, covers 0-80: only the 30 not yet counted go to the second window, then its
        // reports (15 at 95) as they come. The whole run counts once: 50 + 30 + 15.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .StatRuntime(80, 0, 100, 100, "CPU 0/KVM", 80)
            .StatRuntime(95, 0, 100, 100, "CPU 0/KVM", 15);
        var (windows, total, _) = Run(s, 100, window: 50);
        Assert.Equal([50L, 30L + 15L], windows.Select(w => Assert.Single(w.Vms).ThreadsOnCpuNs).ToArray());
        Assert.Equal(95, Assert.Single(total.Vms).ThreadsOnCpuNs);
    }

    [Fact]
    public void OnEvent_RunTimeFarShortOfTheSwitch_SwitchTimeStandsBeyondTheClockLagBound()
    {
        // The vCPU's run time says its clock stopped at 5 ms, but it switched out at 30 ms: a tick would have moved
        // the kernel's clock long before (reports lost or filtered), so at most 10 ms is moved from run to wait.
        const long ms = 1_000_000;
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .StatRuntime(5 * ms, 0, 100, 100, "CPU 0/KVM", 5 * ms)
            .Switch(30 * ms, 0, 100, "CPU 0/KVM", 0, 300, "stress")
            .Switch(50 * ms, 0, 300, "stress", 1, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 50 * ms);
        Assert.Equal(new CpuTimes(0, 20 * ms, 30 * ms, 0, 0, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void OnEvent_RunTimeReportAfterAnEarlyPlacedSwitch_TheNextSwitchStandsAtTheKernelsClock()
    {
        // The vCPU is preempted at 1 ms by a host thread whose reports say it ran only 1.5 ms by its switch at 3 ms: that
        // switch is placed at 2.5 ms (as after a skipped clock update). The next thread's report at 4 ms charges it 1 ms,
        // made at the kernel's clock of 4 ms: it started at 3 ms, not 2.5. Its switch to the vCPU at 5 ms (2 ms charged
        // in all) is then at 3 + 2 = 5 ms, and the vCPU waited 1-5 ms. Starting it at 2.5 ms would end the wait at 4.5 ms,
        // and so on down every later switch of the CPU (measured live: vCPU waits 5-17 % short of schedstat).
        const long ms = 1_000_000;
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .StatRuntime(1 * ms, 0, 100, 100, "CPU 0/KVM", 1 * ms)
            .Switch(1 * ms, 0, 100, "CPU 0/KVM", 0, 300, "stress")
            .StatRuntime(3 * ms, 0, 300, 300, "stress", 3 * ms / 2)
            .Switch(3 * ms, 0, 300, "stress", 0, 301, "stress2")
            .StatRuntime(4 * ms, 0, 301, 301, "stress2", 1 * ms)
            .StatRuntime(5 * ms, 0, 301, 301, "stress2", 1 * ms)
            .Switch(5 * ms, 0, 301, "stress2", 1, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 6 * ms);
        Assert.Equal(new CpuTimes(0, 1 * ms + 1 * ms, 4 * ms, 0, 0, 0), Vcpu(total, "vm1").Times);
    }

    /// <summary>
    /// The worker (101) is woken at 50 and preempts the vCPU (100) at 60; the scheduler's run-queue clock was
    /// last updated at the wake-up, so it charges the vCPU up to 50 and the worker from 50 (rq_clock_skip_update).
    /// </summary>
    private static ScriptedSource WakeupPreemption(bool withRuntime)
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Wakeup(50, 0, 100, 101, 0);
        if (withRuntime)
            s.StatRuntime(60, 0, 100, 100, "CPU 0/KVM", 50);
        s.Switch(60, 0, 100, "CPU 0/KVM", 0, 101, "worker");
        if (withRuntime)
            s.StatRuntime(80, 0, 101, 101, "worker", 30);
        s.Switch(80, 0, 101, "worker", 1, 100, "CPU 0/KVM");
        if (withRuntime)
            s.StatRuntime(100, 0, 100, 100, "CPU 0/KVM", 20);
        return s;
    }

    [Fact]
    public void OnEvent_SleepThenWakeup_CountsBlockedThenWait()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(20, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")  // sleeping (after HLT)
            .Wakeup(50, 1, 555, 100, 0)
            .Switch(70, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 80);
        // on CPU 0-20 and 70-80; blocked 20-50; waiting for the pCPU 50-70.
        Assert.Equal(new CpuTimes(0, 30, 0, 20, 30, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void OnEvent_SleepingThreadMigratedBeforeItsWaking_BlockedTimeFromTheMoveIsQueued()
    {
        // The shape measured on 6.18 (docs/metrics.md): a vCPU blocks while still queued (delayed dequeue), the kernel
        // moves it to CPU 1 at 40, it is woken at 70 and runs at 80. Its run_delay counts 40-80; it slept until 70.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(20, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Waking(30, 0, 0, 555, 0)
            .Migrate(40, 1, 0, 100, 0, 1)
            .Waking(70, 1, 0, 100, 1)
            .Switch(80, 1, 0, "swapper/1", 0, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 90);
        var times = Vcpu(total, "vm1").Times;
        Assert.Equal(new CpuTimes(0, 20 + 10, 0, 10, 50, 30), times);
        Assert.Equal(40, times.RunDelayNs);
        Assert.Equal(10, times.StolenNs);
    }

    [Fact]
    public void RunDelayStarts_WaitsInProgress_StartWhereTheKernelStartsThem()
    {
        // schedstat adds a wait to run_delay when it ends; comparisons need where the one in progress began.
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 1_000_000_000L });
        analysis.AddInventory(Vm1);
        analysis.AddInventory(Vm2);
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(0, 1, 0, "swapper/1", 0, 200, "CPU 0/KVM")
            .Switch(20, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")    // vm1 sleeps
            .Switch(25, 1, 200, "CPU 0/KVM", 0, 300, "stress")     // vm2 preempted
            .Waking(30, 1, 300, 555, 1)                            // the trace records sched_waking
            .Migrate(40, 1, 300, 100, 0, 1)                        // vm1 moved while queued asleep
            .Waking(70, 1, 300, 100, 1)
            .Switch(80, 1, 300, "stress", 0, 100, "CPU 0/KVM");
        var seen = new List<Dictionary<int, long>>();
        while (s.MoveNext())
        {
            analysis.OnEvent(s.Current);
            seen.Add(analysis.RunDelayStarts());
        }
        Assert.Empty(seen[2]);                                         // asleep: no wait
        Assert.Equal(new Dictionary<int, long> { [200] = 25 }, seen[3]);
        Assert.Equal(new Dictionary<int, long> { [200] = 25 }, seen[4]);
        Assert.Equal(new Dictionary<int, long> { [100] = 40, [200] = 25 }, seen[5]);
        Assert.Equal(new Dictionary<int, long> { [100] = 40, [200] = 25 }, seen[6]); // the wake-up keeps the move's start
        Assert.Equal(new Dictionary<int, long> { [200] = 25 }, seen[7]);
    }

    [Fact]
    public void OnEvent_WakeupMovesTheThread_NothingQueuedWhileAsleep()
    {
        // A wake-up that picks another CPU migrates the thread after sched_waking: that is ordinary wake-up wait.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(20, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Waking(50, 0, 0, 100, 1)
            .Migrate(50, 0, 0, 100, 0, 1)
            .Switch(60, 1, 0, "swapper/1", 0, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 70);
        Assert.Equal(new CpuTimes(0, 20 + 10, 0, 10, 30, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void OnEvent_TraceWithoutWaking_MigrationOfASleeperIsTheWakeupsOwn()
    {
        // Without sched_waking, a wake-up's migration comes before its sched_wakeup: it says nothing about queues.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(20, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Migrate(50, 0, 0, 100, 0, 1)
            .Wakeup(51, 0, 0, 100, 1)
            .Switch(60, 1, 0, "swapper/1", 0, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 70);
        Assert.Equal(new CpuTimes(0, 20 + 10, 0, 9, 31, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void OnEvent_TwoVmsPreemptEachOther_AttributeToTheOtherVm()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(10, 0, 100, "CPU 0/KVM", 0, 200, "CPU 0/KVM")
            .Switch(40, 0, 200, "CPU 0/KVM", 0, 100, "CPU 0/KVM")
            .Switch(45, 0, 100, "CPU 0/KVM", 0, 200, "CPU 0/KVM");
        var (_, total, _) = Run(s, 50);
        // vm1 waits 10-40 (vm2 runs) and 45-50; vm2 waits 40-45 (vm1 runs). Same vcpu_id 0, two VMs.
        Assert.Equal([new Interference("vm2", 35)], Assert.Single(total.Vms, v => v.Vm == "vm1").Interferers);
        Assert.Equal([new Interference("vm1", 5)], Assert.Single(total.Vms, v => v.Vm == "vm2").Interferers);
        Assert.Equal(35, Vcpu(total, "vm1").Times.PreemptedNs);
        Assert.Equal(0, Vcpu(total, "vm2").VcpuId);
    }

    [Fact]
    public void OnEvent_SeveralVmsWaitOnOneCpu_EachWaiterChargedToWhoeverRuns()
    {
        // vm3's two vCPUs wait on CPU 0 together (one moved there from CPU 1 while waiting), then vm2's joins them the same
        // way, through a window end at 100; whoever runs on the CPU a thread waits on takes its waiting, thread by thread.
        var vm3 = new VmInventory("vm3", 299, [new(299, "qemu-system-x86"), new(300, "CPU 0/KVM"), new(301, "CPU 1/KVM")], []);
        static ScriptedSource Script() => new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 300, "CPU 0/KVM")
            .Switch(0, 1, 0, "swapper/1", 0, 301, "CPU 1/KVM")
            .Switch(10, 0, 300, "CPU 0/KVM", 0, 400, "stress")     // vm3 vCPU 0 waits on CPU 0 from 10
            .Switch(30, 1, 301, "CPU 1/KVM", 0, 200, "CPU 0/KVM")  // vm3 vCPU 1 waits on CPU 1 from 30 (vm2 runs)
            .Migrate(40, 1, 200, 301, 1, 0)                         // ... and on CPU 0 from 40
            .Switch(60, 1, 200, "CPU 0/KVM", 0, 500, "burn")       // vm2 waits on CPU 1 from 60
            .Migrate(70, 1, 500, 200, 1, 0)                         // ... and on CPU 0 from 70
            .Switch(150, 0, 400, "stress", 0, 200, "CPU 0/KVM")    // vm2 back at 150
            .Switch(160, 0, 200, "CPU 0/KVM", 1, 301, "CPU 1/KVM") // vm3 vCPU 1 back at 160
            .Switch(170, 0, 301, "CPU 1/KVM", 1, 300, "CPU 0/KVM"); // vm3 vCPU 0 back at 170
        var options = new AnalysisOptions { WindowNs = 100 };

        // vm3 vCPU 0 waits 10-170 on CPU 0: stress 10-150, vm2 150-160, its own VM's vCPU 1 160-170.
        // vm3 vCPU 1 waits 30-40 on CPU 1 (vm2), then 40-160 on CPU 0: stress 40-150, vm2 150-160.
        // vm2 waits 60-70 on CPU 1 (burn), then 70-150 on CPU 0 (stress).
        Interference[] vm3Expected = [new("host:stress", 140 + 110), new("vm2", 10 + 10 + 10), new("vm3", 10)];
        Interference[] vm2Expected = [new("host:stress", 80), new("host:burn", 10)];

        var (_, straight, _) = AnalysisRun.Of(Script(), options, [Vm1, Vm2, vm3], 180);
        var resumed = RunWithCheckpointAt(Script(), options, [Vm1, Vm2, vm3], checkpointAfter: 50, end: 180);
        foreach (var total in new[] { straight, resumed })
        {
            Assert.Equal(vm3Expected, Assert.Single(total.Vms, v => v.Vm == "vm3").Interferers.OrderByDescending(i => i.PreemptedNs).ThenBy(i => i.Culprit));
            Assert.Equal(vm2Expected, Assert.Single(total.Vms, v => v.Vm == "vm2").Interferers.OrderByDescending(i => i.PreemptedNs));
            Assert.Equal(150 - 60, Assert.Single(total.Vms, v => v.Vm == "vm2").Vcpus.Single().Times.PreemptedNs);
            var vcpus = Assert.Single(total.Vms, v => v.Vm == "vm3").Vcpus;
            Assert.Equal(170 - 10, Assert.Single(vcpus, v => v.VcpuId == 0).Times.PreemptedNs);
            Assert.Equal(160 - 30, Assert.Single(vcpus, v => v.VcpuId == 1).Times.PreemptedNs);
        }
    }

    /// <summary>Runs <paramref name="s"/> to the first event after <paramref name="checkpointAfter"/>, saves, restores, and runs the rest on the restored analysis.</summary>
    private static WindowMetrics RunWithCheckpointAt(ScriptedSource s, AnalysisOptions options, IEnumerable<VmInventory> inventory, long checkpointAfter, long end)
    {
        var analysis = new HostAnalysis(options);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        var windows = new List<WindowMetrics>();
        bool restored = false;
        while (s.MoveNext())
        {
            var e = s.Current;
            if (!restored && e.Timestamp > checkpointAfter)
            {
                analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
                restored = true;
            }
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
        }
        Assert.True(restored);
        analysis.Flush(end);
        windows.AddRange(analysis.TakeClosedWindows());
        return MetricsMerge.Total(windows);
    }

    [Fact]
    public void OnEvent_EventTidContradictsCpu_InfersSwitchFromWakeup()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(10, 0, 100, "CPU 0/KVM", 1, 0, "swapper/0")
            .Wakeup(30, 1, 555, 100, 0)
            // The idle → vCPU switch on CPU 0 was never recorded; the vCPU's own event shows it runs.
            .Entry(50, 0, 100, 0)
            .Exit(60, 0, 100, 0, 12);
        var (_, total, analysis) = Run(s, 60);
        Assert.Equal(1, analysis.Counters.InferredSwitches);
        // Runs from the wake-up at 30 (the CPU was idle): host 0-10 and 30-50, guest 50-60, blocked 10-30.
        Assert.Equal(new CpuTimes(10, 30, 0, 0, 20, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void OnEvent_LostSwitchAwayFromVcpu_OtherThreadEventInfersIt()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Wakeup(20, 0, 400, 555, 1); // tid 400 runs on CPU 0: the switch 100 → 400 was lost
        var (_, total, analysis) = Run(s, 50);
        Assert.Equal(1, analysis.Counters.InferredSwitches);
        // Counted on CPU until the contradiction at 20, then unknown (not charged anywhere).
        Assert.Equal(new CpuTimes(0, 20, 0, 0, 0, 0), Vcpu(total, "vm1").Times);
    }

    [Fact]
    public void Flush_IntervalAcrossWindows_SplitsAndKeepsTotal()
    {
        long t0 = 1_000_000_007; // not aligned: the first window starts at 1_000_000_000
        var s = new ScriptedSource()
            .Switch(t0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(t0 + 3, 0, 100, 0)
            .Exit(t0 + 253, 0, 100, 0, 30);
        var (windows, total, _) = Run(s, t0 + 260, window: 100);

        Assert.Equal([1_000_000_000L, 1_000_000_100L, 1_000_000_200L], windows.Select(w => w.StartNs));
        Assert.Equal([1_000_000_100L, 1_000_000_200L, t0 + 260], windows.Select(w => w.EndNs));
        // guest 1_000_000_010 .. 1_000_000_260: 90 + 100 + 60 = 250.
        Assert.Equal([90L, 100L, 60L], windows.Select(w => Vcpu(w, "vm1").Times.GuestNs));
        Assert.Equal(250, Vcpu(total, "vm1").Times.GuestNs);
        Assert.Equal(3 + 7, Vcpu(total, "vm1").Times.HostNs);
    }

    [Fact]
    public void Flush_FromInsideWindow_CutsExactlyThere()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(10, 0, 100, 0)
            .Exit(190, 0, 100, 0, 30);
        var (windows, total, _) = Run(s, 200, window: 100, from: 50);
        Assert.Equal([(50L, 100L), (100L, 200L)], windows.Select(w => (w.StartNs, w.EndNs)));
        Assert.Equal(140, Vcpu(total, "vm1").Times.GuestNs); // 50..190
    }

    [Fact]
    public void AdvanceWatermark_PastWindowEnd_ClosesWindowWithoutEvents()
    {
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 100 });
        analysis.AddInventory(Vm1);
        var s = new ScriptedSource().Switch(5, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM");
        Assert.True(s.MoveNext());
        analysis.OnEvent(s.Current);
        analysis.AdvanceWatermark(99);
        Assert.Empty(analysis.TakeClosedWindows());
        analysis.AdvanceWatermark(250);
        var closed = analysis.TakeClosedWindows();
        Assert.Equal([(0L, 100L), (100L, 200L)], closed.Select(w => (w.StartNs, w.EndNs)));
        Assert.Equal([95L, 100L], closed.Select(w => Assert.Single(w.Vms).VcpuTimes.HostNs));
    }

    [Fact]
    public void OnEvent_AfterFlush_Throws()
    {
        var s = new ScriptedSource().Switch(5, 0, 0, "swapper/0", 0, 100, "x");
        var (_, _, analysis) = Run(s, 10);
        Assert.True(new ScriptedSource().Switch(20, 0, 0, "swapper/0", 0, 100, "x") is var again && again.MoveNext());
        Assert.Throws<InvalidOperationException>(() => analysis.OnEvent(again.Current));
    }

    [Fact]
    public void OnEvent_TimestampGoesBack_CountedAndHandledAtLatestTime()
    {
        var s = new ScriptedSource()
            .Switch(50, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(40, 0, 100, 0)
            .Exit(70, 0, 100, 0, 1);
        var (_, total, analysis) = Run(s, 70);
        Assert.Equal(1, analysis.Counters.OutOfOrderEvents);
        Assert.Equal(20, Vcpu(total, "vm1").Times.GuestNs); // entry taken at 50
    }

    [Fact]
    public void OnEvent_TidsSharingAThreadCacheSlot_StayDistinctThreads()
    {
        // 100 and 356 = 100 + 256 fall in the same slot of the analysis's tid cache; switches alternate them.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Switch(10, 0, 100, "CPU 0/KVM", 0, 356, "stress")   // preempted
            .Switch(40, 0, 356, "stress", 1, 100, "CPU 0/KVM")
            .Switch(50, 0, 100, "CPU 0/KVM", 0, 356, "stress")   // preempted again
            .Switch(60, 0, 356, "stress", 1, 100, "CPU 0/KVM");
        var (_, total, _) = Run(s, 70);
        // on CPU 0-10, 40-50, 60-70; preempted 10-40 and 50-60, both times by stress.
        Assert.Equal(new CpuTimes(0, 30, 40, 0, 0, 0), Vcpu(total, "vm1").Times);
        Assert.Equal([new Interference("host:stress", 40)], Assert.Single(total.Vms, v => v.Vm == "vm1").Interferers);
    }

    [Fact]
    public void OnEvent_TidReusedByNewTask_LaterEventsReachTheNewThread()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 300, "stress")
            .Switch(10, 0, 300, "stress", 1, 99, "qemu-system-x86")   // the host task 300 sleeps (and is gone)
            .NewThread(20, 0, 99, 300, "CPU 1/KVM")                   // tid 300 reused: a vCPU thread of vm1
            .Switch(30, 0, 99, "qemu-system-x86", 1, 300, "CPU 1/KVM");
        var (_, total, _) = Run(s, 50);
        // The new thread is vm1's vCPU 1 (pid from its creator), on CPU 30-50; the old task's model is not reused.
        var vcpu = Vcpu(total, "vm1");
        Assert.Equal((1, 300), (vcpu.VcpuId, vcpu.Tid));
        Assert.Equal(new CpuTimes(0, 20, 0, 0, 0, 0), vcpu.Times);
        Assert.DoesNotContain(total.Vms, v => v.Vm == "qemu-t300");
    }
}
