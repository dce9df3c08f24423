using System.Collections.Immutable;

namespace Vmtrace.Analysis;

/// <summary>
/// The figures of one VM in one window that its workload class is judged on. Times are shares of the window per vCPU
/// (so a VM's vCPU count does not matter), rates are per second on a log scale (log10(1 + rate): a disk or a network
/// that moves anything at all stands out from one that moves nothing, and ten times more counts once more).
/// </summary>
public static class WorkloadFeatures
{
    /// <summary>The features, in the order of <see cref="Of"/> and of the model's vectors.</summary>
    public static readonly ImmutableArray<string> Names =
    [
        "vcpu_on_cpu_share", "vcpu_runnable_share", "vcpu_blocked_share", "other_threads_pcpu",
        "disk_requests_log10", "disk_bytes_log10", "net_packets_log10", "net_bytes_log10",
    ];

    public static double[] Of(WindowMetrics window, VmMetrics vm)
    {
        double seconds = Math.Max(1, window.LengthNs) / 1e9;
        double vcpuNs = Math.Max(1, window.LengthNs) * (double)Math.Max(1, vm.Vcpus.Count);
        var t = vm.VcpuTimes;
        // qemu's thread-pool layer and the host block layer see the same requests: the larger of the two counts them
        // whether or not qemu's own trace log was read.
        long diskRequests = Math.Max(vm.QemuDisk.Completed, vm.BlockDisk.Completed);
        long diskBytes = Math.Max(vm.QemuDisk.ReadBytes + vm.QemuDisk.WriteBytes, vm.BlockDisk.ReadBytes + vm.BlockDisk.WriteBytes);
        var n = vm.Network;
        return
        [
            t.OnCpuNs / vcpuNs,
            t.StolenNs / vcpuNs,
            t.BlockedNs / vcpuNs,
            Math.Max(0, vm.ThreadsOnCpuNs - t.OnCpuNs) / (double)Math.Max(1, window.LengthNs),
            Math.Log10(1 + diskRequests / seconds),
            Math.Log10(1 + diskBytes / seconds),
            Math.Log10(1 + (n.RxPackets + n.TxPackets) / seconds),
            Math.Log10(1 + (n.RxBytes + n.TxBytes) / seconds),
        ];
    }

    /// <summary>The VM's threads' on-CPU time as a share of one pCPU over the window (what <see cref="WorkloadClasses.Idle"/> is judged on).</summary>
    public static double ThreadsPcpu(WindowMetrics window, VmMetrics vm) => vm.ThreadsOnCpuNs / (double)Math.Max(1, window.LengthNs);
}
