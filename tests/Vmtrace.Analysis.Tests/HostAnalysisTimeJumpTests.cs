namespace Vmtrace.Analysis.Tests;

/// <summary>Gaps between events longer than <see cref="AnalysisOptions.MaxGapNs"/>: skipped and counted, never materialised.</summary>
public class HostAnalysisTimeJumpTests
{
    private static readonly VmInventory Vm1 = new("vm1", 99, [new(99, "qemu-system-x86"), new(100, "CPU 0/KVM")], []);

    /// <summary>A timestamp of a corrupt trace: 10^18 ns (about 31.7 years) ahead, a multiple of every window used here.</summary>
    private const long Far = 1_000_000_000_000_000_000;

    private static (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total, HostAnalysis Analysis) Run(
        ScriptedSource s, long end, long window, long? maxGap = null) =>
        AnalysisRun.Of(s, new AnalysisOptions { WindowNs = window, MaxGapNs = maxGap }, [Vm1], end);

    private static VcpuMetrics Vcpu(WindowMetrics w) => Assert.Single(Assert.Single(w.Vms).Vcpus);

    [Fact]
    public void OnEvent_TimestampFarAhead_GapSkippedNotMaterialised()
    {
        // 100 ns windows: the gap would be 10^16 windows. The default limit is 100,000 windows (10 ms) here.
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(10, 0, 100, 0)
            .Exit(60, 0, 100, 0, 1)
            .Entry(Far + 30, 0, 100, 0)
            .Exit(Far + 70, 0, 100, 0, 1);
        var (windows, total, analysis) = Run(s, Far + 80, window: 100);

        // The open window closes where the events stopped (60); the next is the window of the jump's event.
        Assert.Equal([(0L, 60L), (Far, Far + 80)], windows.Select(w => (w.StartNs, w.EndNs)));
        Assert.Equal(1, analysis.Counters.TimeJumps);
        Assert.Equal(Far + 30 - 60, analysis.Counters.TimeJumpNs);
        // Before: host 0..10, guest 10..60. The gap (host mode since the exit at 60) is not charged. After: guest
        // Far+30..Far+70, host Far+70..Far+80.
        Assert.Equal((10L, 50L), (Vcpu(windows[0]).Times.HostNs, Vcpu(windows[0]).Times.GuestNs));
        Assert.Equal((10L, 40L), (Vcpu(windows[1]).Times.HostNs, Vcpu(windows[1]).Times.GuestNs));
        Assert.Equal((20L, 90L), (Vcpu(total).Times.HostNs, Vcpu(total).Times.GuestNs));
    }

    [Fact]
    public void OnEvent_GapAtTheLimit_AnalysedAsTime()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(10, 0, 100, 0)
            .Exit(1010, 0, 100, 0, 1);
        var (windows, total, analysis) = Run(s, 1010, window: 100, maxGap: 1000);

        Assert.Equal(0, analysis.Counters.TimeJumps);
        Assert.Equal(11, windows.Count); // [0,100) … [900,1000), [1000,1010)
        Assert.Equal(1000, Vcpu(total).Times.GuestNs);
    }

    [Fact]
    public void OnEvent_GapOneNanosecondPastTheLimit_IsAJump()
    {
        var s = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(10, 0, 100, 0)
            .Exit(1011, 0, 100, 0, 1)
            .Entry(1020, 0, 100, 0);
        var (windows, total, analysis) = Run(s, 1030, window: 100, maxGap: 1000);

        Assert.Equal(1, analysis.Counters.TimeJumps);
        Assert.Equal(1001, analysis.Counters.TimeJumpNs);
        Assert.Equal([(0L, 10L), (1000L, 1030L)], windows.Select(w => (w.StartNs, w.EndNs)));
        // The guest time of the gap (10..1011) is not charged: host 0..10 and 1011..1020, guest 1020..1030.
        Assert.Equal((19L, 10L), (Vcpu(total).Times.HostNs, Vcpu(total).Times.GuestNs));
    }

    [Fact]
    public void AdvanceWatermark_FarAhead_SkipsTheGap()
    {
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 100 });
        analysis.AddInventory(Vm1);
        var s = new ScriptedSource().Switch(5, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM").Entry(50, 0, 100, 0);
        while (s.MoveNext())
            analysis.OnEvent(s.Current);
        analysis.AdvanceWatermark(Far);
        var closed = analysis.TakeClosedWindows();
        Assert.Equal([(0L, 50L)], closed.Select(w => (w.StartNs, w.EndNs)));
        Assert.Equal(45, Assert.Single(Assert.Single(closed).Vms).VcpuTimes.HostNs);
        Assert.Equal(1, analysis.Counters.TimeJumps);
    }

    [Fact]
    public void OnEvent_TimestampsAtTheEndsOfTheRange_NoOverflowBoundedWindows()
    {
        var s = new ScriptedSource()
            .Switch(long.MinValue, 0, 0, "swapper/0", 0, 100, "CPU 0/KVM")
            .Entry(long.MinValue + 1, 0, 100, 0)
            .Exit(long.MaxValue - 1, 0, 100, 0, 1)
            .Entry(long.MaxValue, 0, 100, 0);
        var (windows, _, analysis) = Run(s, long.MaxValue, window: 1_000_000_000);

        Assert.Equal(1, analysis.Counters.TimeJumps);
        Assert.Equal(long.MaxValue, analysis.Counters.TimeJumpNs); // 2^64 - 3 ns, saturated
        Assert.InRange(windows.Count, 1, 3);
        Assert.All(windows, w => Assert.True(w.EndNs >= w.StartNs));
    }
}
