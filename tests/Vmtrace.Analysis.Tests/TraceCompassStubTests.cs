using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>Trace Compass's own VM test input (GROUND_TRUTH.md section A), run unchanged.</summary>
public class TraceCompassStubTests
{
    private static VmMetrics OneQemuKvmVm()
    {
        using var source = TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml"));
        // "Up to the last host event" (t=355): the stub's last event is that kvm_entry.
        var (_, total, _) = AnalysisRun.Of(source);
        return Assert.Single(total.Vms);
    }

    [CorpusFact]
    public void Analyze_OneQemuKvmHost_SplitsVcpuTimeLikeTraceCompass()
    {
        var vm = OneQemuKvmVm();
        var vcpu = Assert.Single(vm.Vcpus);
        Assert.Equal(0, vcpu.VcpuId);
        Assert.Equal(31, vcpu.Tid);
        // TC's vCPU status: RUNNING [10,44] [60,94] [155,194] [210,244] [260,294] (+5 ns before each, from the
        // kvm_entry at 5/60/…): entry→exit = 40+35+40+35+35 = 185.
        Assert.Equal(185, vcpu.Times.GuestNs);
        // On the pCPU but not in guest, from the first entry (t=5) on: 15+5+5+15+15+5+5 = 65.
        Assert.Equal(65, vcpu.Times.HostNs);
        // Switched out runnable at 100 and 300, back at 150 and 350.
        Assert.Equal(100, vcpu.Times.PreemptedNs);
        Assert.Equal(0, vcpu.Times.WaitNs);
        Assert.Equal(0, vcpu.Times.BlockedNs);
    }

    [CorpusFact]
    public void Analyze_OneQemuKvmHost_PairsExitsWithNextEntry()
    {
        var vm = OneQemuKvmVm();
        var exit = Assert.Single(vm.Exits);
        Assert.Equal(32, exit.Reason);
        Assert.Equal(5, exit.Latency.Count);
        Assert.Equal(165, exit.Latency.SumNs);
        Assert.Equal(15, exit.Latency.MinNs);
        Assert.Equal(60, exit.Latency.MaxNs);
        Assert.Equal(15, exit.Latency.P50Ns);
        Assert.Equal(60, exit.Latency.P99Ns);
    }

    [CorpusFact]
    public void Analyze_OneQemuKvmHost_AttributesPreemptionToThread30()
    {
        var vm = OneQemuKvmVm();
        var culprit = Assert.Single(vm.Interferers);
        // Thread 30 is named "any" in the stub's sched_switch events.
        Assert.Equal("host:any", culprit.Culprit);
        Assert.Equal(100, culprit.PreemptedNs);
    }

    [CorpusFact]
    public void Analyze_OneQemuKvmHost_ShowsFallbackIdentityWithoutProcessInfo()
    {
        var vm = OneQemuKvmVm();
        Assert.Equal("qemu-t31", vm.Vm);
        Assert.Equal(-1, vm.Pid);
        Assert.StartsWith("fallback", vm.Origin, StringComparison.Ordinal);
    }
}
