using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>Real KVM host traces (trace-cmd, kvm events only) against the reference computed from their text exports.</summary>
public class Hip24KvmTests
{
    public static TheoryData<string, string> Traces => new()
    {
        { "hip24-kvm-host-allkvm/host.trace.dat", "hip24-kvm-host-allkvm/host.report-raw.txt" },
        { "hip24-kvm-host-guest-pair/host.trace.dat", "hip24-kvm-host-guest-pair/host.report-raw.txt" },
        { "hip24-kvm-host-2vms-46s/host.trace.dat", "hip24-kvm-host-2vms-46s/host.report-raw.txt.gz" },
    };

    // Each trace and export is read once for all the tests of this class (keeps the suite fast).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(WindowMetrics, IReadOnlyList<WindowMetrics>)>> Analyses = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<KvmExitReference>> References = new();

    private static (WindowMetrics Total, IReadOnlyList<WindowMetrics> Windows) Analyze(string trace) =>
        Analyses.GetOrAdd(trace, t => new Lazy<(WindowMetrics, IReadOnlyList<WindowMetrics>)>(() =>
        {
            using var source = TraceOpener.Open(Corpus.Path(t));
            var (windows, total, _) = AnalysisRun.Of(source);
            return (total, windows);
        })).Value;

    private static KvmExitReference Reference(string export) =>
        References.GetOrAdd(export, x => new Lazy<KvmExitReference>(() => KvmExitReference.FromRawExport(Corpus.Path(x)))).Value;

    [CorpusTheory]
    [MemberData(nameof(Traces))]
    public void Analyze_Hip24_ExitCountsAndLatenciesEqualReference(string trace, string export)
    {
        var reference = Reference(export);
        var (total, _) = Analyze(trace);

        var measured = new Dictionary<(int Tid, int Reason), LatencyMetrics>();
        foreach (var vm in total.Vms)
        {
            foreach (var vcpu in vm.Vcpus)
            {
                foreach (var exit in vcpu.Exits)
                    measured.Add((vcpu.Tid, exit.Reason), exit.Latency);
            }
        }
        Assert.Equal(reference.Exits.Keys.Order(), measured.Keys.Order());
        foreach (var (key, r) in reference.Exits)
        {
            var m = measured[key];
            Assert.Equal((key, r.Count, r.Sum, r.Min, r.Max), (key, m.Count, m.SumNs, m.MinNs, m.MaxNs));
        }
    }

    [CorpusTheory]
    [MemberData(nameof(Traces))]
    public void Analyze_Hip24_GuestTimePerThreadEqualsReference(string trace, string export)
    {
        var reference = Reference(export);
        var (total, _) = Analyze(trace);
        var measured = total.Vms.SelectMany(vm => vm.Vcpus).ToDictionary(v => v.Tid, v => v.Times.GuestNs);
        Assert.Equal(reference.GuestNs.OrderBy(kv => kv.Key), measured.OrderBy(kv => kv.Key));
    }

    [CorpusFact]
    public void Analyze_Hip24TwoVms_KeepsThreeDistinctVcpusWithFallbackIdentity()
    {
        var (total, _) = Analyze("hip24-kvm-host-2vms-46s/host.trace.dat");
        var vcpus = total.Vms.SelectMany(vm => vm.Vcpus.Select(v => (vm.Vm, v.VcpuId, v.Tid))).OrderBy(v => v.Tid).ToList();
        // SOURCES.md 1c: CPU 0/KVM-453724 (vcpu 0), CPU 1/KVM-453725 (vcpu 1), qemu-system-x86-483882 (vcpu 0 of another VM).
        Assert.Equal([("qemu-t453724", 0, 453724), ("qemu-t453725", 1, 453725), ("qemu-t483882", 0, 483882)], vcpus);
        Assert.All(total.Vms, vm => Assert.StartsWith("fallback", vm.Origin, StringComparison.Ordinal));
    }

    [CorpusFact]
    public void Analyze_Hip24TwoVms_WindowsAreAlignedAndTileTheTrace()
    {
        var (_, windows) = Analyze("hip24-kvm-host-2vms-46s/host.trace.dat");
        Assert.True(windows.Count >= 46);
        for (int i = 0; i < windows.Count; i++)
        {
            if (i > 0)
                Assert.Equal(windows[i - 1].EndNs, windows[i].StartNs);
            if (i < windows.Count - 1)
                Assert.Equal(1_000_000_000L, windows[i].LengthNs);
            Assert.Equal(0, windows[i].EndNs % 1_000_000_000L == 0 || i == windows.Count - 1 ? 0 : 1);
        }
        Assert.True(windows[0].StartNs % 1_000_000_000L == 0 || windows[0].StartNs > 0);
    }
}
