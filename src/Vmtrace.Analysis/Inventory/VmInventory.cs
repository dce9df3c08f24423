namespace Vmtrace.Analysis;

/// <summary>One thread of a VM's process; <see cref="VcpuIndex"/> is the vCPU it runs, -1 when not a vCPU or not known.</summary>
public sealed record InventoryThread(int Tid, string Comm, int VcpuIndex = -1);

/// <summary>
/// What the host agent knows about one VM that the kernel trace may not say: its name (qemu <c>-name</c>),
/// its process id, its threads and its tap devices. Fed with <see cref="HostAnalysis.AddInventory"/>.
/// </summary>
public sealed record VmInventory(string Name, int Pid, IReadOnlyList<InventoryThread> Threads, IReadOnlyList<string> TapDevices)
{
    public VmInventory(string name, int pid)
        : this(name, pid, [], [])
    {
    }

    /// <summary>How the VM was identified (<see cref="VmIdentity"/>).</summary>
    public string Identity { get; init; } = VmIdentity.Vmmap;

    /// <summary>What the identity rests on, for the report; empty for an inventory read from /proc or vmmap.json.</summary>
    public string Evidence { get; init; } = "";
}
