namespace Vmtrace.Analysis;

/// <summary>One vCPU of one VM: the key is (VM, vcpu id), never the vcpu id alone.</summary>
internal sealed class VcpuInfo
{
    public VcpuInfo(VmInfo vm, int vcpuId, int tid)
    {
        Vm = vm;
        VcpuId = vcpuId;
        Tid = tid;
    }

    public VmInfo Vm { get; }
    public int VcpuId { get; }
    /// <summary>The host thread last seen running it.</summary>
    public int Tid { get; set; }
    public VcpuAccumulator Window { get; } = new();
}
