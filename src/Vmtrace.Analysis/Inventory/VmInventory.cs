namespace Vmtrace.Analysis;

/// <summary>One thread of a VM's process as the agent saw it in /proc.</summary>
public sealed record InventoryThread(int Tid, string Comm);

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
}
