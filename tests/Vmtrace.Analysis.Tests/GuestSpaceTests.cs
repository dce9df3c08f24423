using Vmtrace.Analysis.Tests.Checkpoint;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// Guest time by guest address space (CR3 of the research's addons_vcpu_enter_guest) and by guest mode at entry (guest RIP),
/// on the hand-built <see cref="GuestSpaceTrace"/> whose expected figures are derived in its summary.
/// </summary>
public sealed class GuestSpaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-cr3-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly AnalysisOptions Options = new() { WindowNs = GuestSpaceTrace.WindowNs };

    private (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total) Run()
    {
        using var source = TraceOpener.Open(GuestSpaceTrace.WriteTo(_dir));
        var (windows, total, _) = AnalysisRun.Of(source, Options);
        return (windows, total);
    }

    private static VmMetrics VmOfThread(WindowMetrics w, int tid) => Assert.Single(w.Vms, vm => vm.Vcpus.Any(v => v.Tid == tid));

    private static (string, long)[] Spaces(VmMetrics vm) => [.. vm.GuestSpaces.Select(s => (s.Cr3, s.GuestNs))];

    [Fact]
    public void Analyze_SyntheticCr3Trace_VmAPerWindowAsDerivedByHand()
    {
        var (windows, total) = Run();
        Assert.Equal(2, windows.Count);

        var a0 = VmOfThread(windows[0], 31);
        Assert.Equal(840, a0.VcpuTimes.GuestNs);
        Assert.Equal(new GuestModes(KernelNs: 300, UserNs: 540, Runs: 2, CrossedRuns: 1), a0.GuestModes);
        Assert.Equal(a0.GuestModes, Assert.Single(a0.Vcpus).GuestModes);
        Assert.Equal([("0x1000", 300L), ("0x2000", 300L), ("unknown", 240L)], Spaces(a0));

        var a1 = VmOfThread(windows[1], 31);
        Assert.Equal(570, a1.VcpuTimes.GuestNs);
        Assert.Equal(100, a1.VcpuTimes.PreemptedNs);
        Assert.Equal(new GuestModes(KernelNs: 270, UserNs: 300, Runs: 2, CrossedRuns: 1), a1.GuestModes);
        Assert.Equal([("0x1000", 180L), ("0x3000", 90L), ("unknown", 300L)], Spaces(a1));

        // Over both windows: the spaces ranked by time, unknown last.
        var a = VmOfThread(total, 31);
        Assert.Equal(new GuestModes(570, 840, 4, 2), a.GuestModes);
        Assert.Equal([("0x1000", 480L), ("0x2000", 300L), ("0x3000", 90L), ("unknown", 540L)], Spaces(a));
    }

    [Fact]
    public void Analyze_SyntheticCr3Trace_VmBKeepsTheTopEightSpacesAndSumsTheRestAsOther()
    {
        var (windows, _) = Run();
        var b = VmOfThread(windows[0], 41);
        Assert.Equal(550, b.VcpuTimes.GuestNs);
        // Run 0 entered with no RIP known yet: its 10 ns have no mode.
        Assert.Equal(new GuestModes(KernelNs: 540, UserNs: 0, Runs: 9, CrossedRuns: 0), b.GuestModes);
        (string, long)[] top = [.. Enumerable.Range(2, 8).Reverse().Select(i => ($"0x{i + 1:x}0000", 10L * (i + 1)))];
        Assert.Equal([.. top, ("other", 30L)], Spaces(b));
        // Window 1: its thread stays on CPU 1 out of guest (host time only), so no mode and no space.
        var b1 = VmOfThread(windows[1], 41);
        Assert.Equal((0L, 700L), (b1.VcpuTimes.GuestNs, b1.VcpuTimes.HostNs));
        Assert.True(b1.GuestModes.IsEmpty);
        Assert.Empty(b1.GuestSpaces);
    }

    [Fact]
    public void Analyze_SyntheticCr3Trace_SpacesSumToGuestTimeAndModesDoNotExceedIt()
    {
        var (windows, total) = Run();
        foreach (var vm in windows.Append(total).SelectMany(w => w.Vms))
        {
            Assert.Equal(vm.VcpuTimes.GuestNs, vm.GuestSpaces.Sum(s => s.GuestNs));
            Assert.True(vm.GuestModes.KernelNs + vm.GuestModes.UserNs <= vm.VcpuTimes.GuestNs, vm.Vm);
        }
    }

    /// <summary>Save → restore after every event of the synthetic trace gives the same windows (guest modes and spaces included).</summary>
    [Fact]
    public void RestoreCheckpoint_AfterEveryEventOfTheCr3Trace_SameWindowsAsStraightRun()
    {
        string path = GuestSpaceTrace.WriteTo(_dir);
        string Replay(bool restoreEachEvent)
        {
            using var source = TraceOpener.Open(path);
            var analysis = new HostAnalysis(Options);
            var windows = new List<WindowMetrics>();
            long last = long.MinValue;
            while (source.MoveNext())
            {
                if (restoreEachEvent)
                    analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
                last = Math.Max(last, source.Current.Timestamp);
                analysis.OnEvent(source.Current);
                windows.AddRange(analysis.TakeClosedWindows());
            }
            analysis.Flush(last);
            windows.AddRange(analysis.TakeClosedWindows());
            return WindowText.Of(windows);
        }
        string straight = Replay(restoreEachEvent: false);
        Assert.Contains("space 0x3000 90", straight, StringComparison.Ordinal);
        Assert.Equal(straight, Replay(restoreEachEvent: true));
    }

    /// <summary>
    /// The hip24 traces carry kvm_entry's rip and kvm_exit's guest_rip: the guest time per thread by the mode at entry, and the
    /// runs whose exit RIP is in the other half, equal an independent count from trace-cmd's text export (<see cref="KvmExitReference"/>:
    /// each kvm_entry paired with the thread's next kvm_exit, the mode from the entry's rip field).
    /// </summary>
    [CorpusTheory]
    [MemberData(nameof(Hip24KvmTests.Traces), MemberType = typeof(Hip24KvmTests))]
    public void Analyze_Hip24_GuestModesPerThreadEqualReference(string trace, string export)
    {
        var reference = KvmExitReference.FromRawExport(Corpus.Path(export));
        using var source = TraceOpener.Open(Corpus.Path(trace));
        var (windows, total, _) = AnalysisRun.Of(source);
        var measured = total.Vms.SelectMany(vm => vm.Vcpus).ToDictionary(v => v.Tid, v => v.GuestModes);
        var expected = reference.GuestNs.Keys.ToDictionary(tid => tid, tid => new GuestModes(
            reference.GuestKernelNs.GetValueOrDefault(tid), reference.GuestUserNs.GetValueOrDefault(tid),
            reference.ModeRuns.GetValueOrDefault(tid).Runs, reference.ModeRuns.GetValueOrDefault(tid).Crossed));
        Assert.Equal(expected.OrderBy(kv => kv.Key), measured.OrderBy(kv => kv.Key));
        // Every run's entry has a rip here: no guest time of unknown mode, and no CR3 (all of it "unknown" space).
        foreach (var vm in windows.SelectMany(w => w.Vms))
        {
            Assert.Equal(vm.VcpuTimes.GuestNs, vm.GuestModes.KernelNs + vm.GuestModes.UserNs);
            Assert.Equal(vm.VcpuTimes.GuestNs == 0 ? [] : [("unknown", vm.VcpuTimes.GuestNs)], Spaces(vm));
        }
    }
}
