namespace Vmtrace.Analysis.Tests;

public class HostAnalysisIoTests
{
    private static readonly VmInventory Vm1 = new("vm1", 99, [new(99, "qemu-system-x86"), new(100, "CPU 0/TCG"), new(101, "worker")], ["tap1"]);
    private static readonly VmInventory Vm2 = new("vm2", 199, [new(199, "qemu-system-x86"), new(200, "CPU 0/TCG")], []);

    private static WindowMetrics Total(ScriptedSource s, long end) =>
        AnalysisRun.Of(s, new AnalysisOptions(), [Vm1, Vm2], end).Total;

    private static VmMetrics Vm(WindowMetrics total, string name) => Assert.Single(total.Vms, v => v.Vm == name);

    [Fact]
    public void OnEvent_BlockCompletionInOtherVmsThread_ChargedToIssuingVm()
    {
        var s = new ScriptedSource()
            .BlockIssue(10, 0, 101, sector: 8, bytes: 4096, "WS")
            .BlockIssue(12, 0, 101, sector: 64, bytes: 512, "R")
            .BlockComplete(40, 1, 200, sector: 8, bytes: 4096)   // interrupt on vm2's vCPU thread
            .BlockComplete(52, 1, 200, sector: 64, bytes: 512)
            .BlockIssue(60, 1, 777, sector: 128, bytes: 512, "R") // a host process: nobody's
            .BlockComplete(70, 1, 200, sector: 128, bytes: 512);
        var total = Total(s, 80);
        var disk = Vm(total, "vm1").BlockDisk;
        Assert.Equal((2L, 2L, 1L, 1L, 512L, 4096L), (disk.Submitted, disk.Completed, disk.ReadRequests, disk.WriteRequests, disk.ReadBytes, disk.WriteBytes));
        Assert.Equal((30L + 40L, 30L, 40L), (disk.Latency.SumNs, disk.Latency.MinNs, disk.Latency.MaxNs));
        Assert.Equal(0, disk.InFlight);
        Assert.Equal(2, disk.MaxInFlight);
        Assert.DoesNotContain(total.Vms, v => v.Vm == "vm2" && !v.BlockDisk.IsEmpty);
    }

    [Fact]
    public void OnEvent_ThreadPoolRequests_PairOnReqAndMeasureIntervals()
    {
        var s = new ScriptedSource()
            .PoolSubmit(100, 99, req: 0xA)
            .PoolSubmit(130, 99, req: 0xB)
            .PoolComplete(150, 99, req: 0xA)
            .PoolSubmit(190, 99, req: 0xC)
            .PoolComplete(200, 99, req: 0xB);
        var disk = Vm(Total(s, 210), "vm1").QemuDisk;
        Assert.Equal((3L, 2L, 1L), (disk.Submitted, disk.Completed, disk.InFlight));
        Assert.Equal((50L + 70L, 50L, 70L), (disk.Latency.SumNs, disk.Latency.MinNs, disk.Latency.MaxNs));
        // Submit gaps 30 and 60: mean 45, sample variance ((−15)² + 15²) / 1 = 450.
        Assert.Equal(2, disk.SubmitIntervals.Count);
        Assert.Equal(45, disk.SubmitIntervals.MeanNs, 6);
        Assert.Equal(450, disk.SubmitIntervals.VarianceNs2, 6);
        Assert.Equal(1, disk.CompleteIntervals.Count);
    }

    [Fact]
    public void OnEvent_PacketsOnTap_CountedForItsVmOnly()
    {
        var s = new ScriptedSource()
            .Xmit(10, 1, 200, "tap1", 100)      // into vm1, in vm2's thread context: still vm1's
            .Receive(20, 0, 99, "tap1", 60)     // out of vm1
            .Receive(30, 0, 99, "eth0", 1500)   // host NIC: nobody's
            .Receive(40, 0, 199, "tap2", 70)    // vm2's main thread writes to tap2: learned as vm2's
            .Xmit(50, 0, 5, "tap2", 80);
        var total = Total(s, 60);
        Assert.Equal(new NetworkMetrics(1, 100, 1, 60, 0, 0), Vm(total, "vm1").Network);
        Assert.Equal(new NetworkMetrics(1, 80, 1, 70, 0, 0), Vm(total, "vm2").Network);
    }

    [Fact]
    public void OnEvent_NewThreadOfVmProcess_JoinsVm()
    {
        var s = new ScriptedSource()
            .NewThread(10, 0, 99, 150, "worker")
            .BlockIssue(20, 0, 150, sector: 8, bytes: 512, "R")
            .BlockComplete(30, 0, 150, sector: 8, bytes: 512);
        Assert.Equal(1, Vm(Total(s, 40), "vm1").BlockDisk.Completed);
    }
}
