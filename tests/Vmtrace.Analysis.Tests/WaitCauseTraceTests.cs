using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>Wait causes on real traces: QEMU/TCG VMs (the wake-up chain through qemu's threads) and a KVM host (injected vectors).</summary>
public class WaitCauseTraceTests
{
    private static (IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total) Tcg(string scenario, params string[] qemuLogs)
    {
        var inputs = new List<string> { Corpus.Path($"tcg-qemu/{scenario}/trace.dat.xz") };
        inputs.AddRange(qemuLogs.Select(p => Corpus.Path($"tcg-qemu/{scenario}/{p}")));
        using var source = TraceOpener.OpenAll(inputs);
        var inventory = VmMapJson.Parse(File.ReadAllText(Corpus.Path($"tcg-qemu/{scenario}/vmmap.json")));
        var (windows, total, _) = AnalysisRun.Of(source, inventory: inventory);
        return (windows, total);
    }

    private static readonly Lazy<(IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total)> S3 =
        new(() => Tcg("s3-disk-vs-cpu", "qemu-vmD.log.xz", "qemu-vmE.log"));

    private static readonly Lazy<(IReadOnlyList<WindowMetrics> Windows, WindowMetrics Total)> S4 = new(() => Tcg("s4-net", "qemu-vmN.log.xz"));

    private static (string Cause, long Ns) Largest(WaitCauses c) =>
        new[] { ("timer", c.TimerNs), ("disk", c.DiskNs), ("net", c.NetNs), ("vcpu", c.VcpuNs), ("host", c.HostNs), ("unknown", c.UnknownNs) }
            .MaxBy(x => x.Item2);

    private static WaitCauses Sum(IEnumerable<VmMetrics> vms) => vms.Aggregate(default(WaitCauses), (acc, v) => acc.Add(v.WaitCauses));

    [CorpusFact]
    public void Analyze_S3_DiskVmWaitsEndMostlyByTheDisk()
    {
        // vmD's guest reads and writes its virtio-blk disk (aio=threads): its vCPU sleeps until the main loop, woken by a
        // qemu worker whose I/O the host's disk interrupt completed, wakes it.
        var vmD = Assert.Single(S3.Value.Total.Vms, v => v.Vm == "vmD");
        Assert.Equal("disk", Largest(vmD.WaitCauses).Cause);
        Assert.True(vmD.WaitCauses.DiskNs * 2 > vmD.WaitCauses.TotalNs, $"disk {vmD.WaitCauses.DiskNs} of {vmD.WaitCauses.TotalNs}");
        // Its vCPU's figures are the VM's (one vCPU), and every wait the VM's other threads show is counted once.
        Assert.Equal(vmD.WaitCauses, Assert.Single(vmD.Vcpus).WaitCauses);
        // The CPU-bound VM beside it hardly waits on the disk.
        var vmE = Assert.Single(S3.Value.Total.Vms, v => v.Vm == "vmE");
        Assert.True(vmE.WaitCauses.DiskNs * 10 < vmE.WaitCauses.TotalNs);
    }

    [CorpusFact]
    public void Analyze_S4_NetVmWaitsEndByTheNetworkDuringItsTransfer_ByTimersOverTheRecording()
    {
        // vmN downloads and uploads over tap0 (no vhost: qemu's main loop reads and writes the tap). Its transfer is the
        // windows where it moved at least half as many packets as in its busiest one: in each, the network ends most of
        // its vCPU's waits (a packet from the host wakes the main loop through the tap, which wakes the vCPU).
        var windows = S4.Value.Windows.SelectMany(w => w.Vms).Where(v => v.Vm == "vmN").ToList();
        long busiest = windows.Max(v => v.Network.RxPackets + v.Network.TxPackets);
        var transfer = windows.Where(v => (v.Network.RxPackets + v.Network.TxPackets) * 2 >= busiest).ToList();
        Assert.True(transfer.Count >= 3, $"{transfer.Count} windows of transfer");
        Assert.All(transfer, v => Assert.True(Largest(v.WaitCauses).Cause == "net", v.WaitCauses.ToString()));
        // Over the whole recording the guest mostly idles (booting, waiting for its workload): its long sleeps end by
        // its timers, through the main loop woken from an idle CPU. A wait is counted whole in the window it ends in,
        // so the transfer's first window carries the idle sleep before it.
        var vmN = Assert.Single(S4.Value.Total.Vms, v => v.Vm == "vmN");
        Assert.True(Largest(vmN.WaitCauses).Cause == "timer", vmN.WaitCauses.ToString());
    }

    [CorpusFact]
    public void Analyze_Hip24AllKvm_HaltWaitsByTheVectorKvmAccepted_CountedByHandFromTheTextExport()
    {
        // hip24-kvm-host-allkvm has only kvm events (no scheduler events): a wait is a HLT exit (exit_reason=12) of vCPU 0
        // (thread 533825) until its next kvm_entry, and what ended it is the first kvm_apic_accept_irq for apicid=0 in
        // between. Derived by hand from host.report-raw.txt (timestamps are TSC cycles, the trace's unit): walking its
        // lines in order, at each kvm_exit of 533825 note the time and reason, keep the vec of the first
        // "kvm_apic_accept_irq: apicid=0" after it, and at the next kvm_entry of 533825 add entry − exit for reason 12.
        // That gives 470 HLT waits: 467 ended by vec=236 (0xec, the guest's local timer), 2 066 541 644 cycles in all;
        // 2 by vec=43 (tm=1, from kvm_set_irq gsi=11), 14 157 050 cycles, delivered by thread 533818 that the trace does not
        // tie to the VM (no process information), so nothing names the device; 1 with no vector at all, 213 814 106 cycles.
        using var source = TraceOpener.Open(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"));
        var (_, total, _) = AnalysisRun.Of(source);
        var vm = Assert.Single(total.Vms);
        Assert.Equal(new WaitCauses(TimerNs: 2_066_541_644, DiskNs: 0, NetNs: 0, VcpuNs: 0, HostNs: 0, UnknownNs: 14_157_050 + 213_814_106),
            Assert.Single(vm.Vcpus).WaitCauses);
    }
}
