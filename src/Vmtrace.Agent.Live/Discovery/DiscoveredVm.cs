using Vmtrace.Analysis;

namespace Vmtrace.Agent.Live.Discovery;

/// <summary>A thread of a qemu process: its name and, for "CPU n/KVM|TCG" threads, the vCPU index.</summary>
public sealed record DiscoveredThread(int Tid, string Comm, int VcpuIndex);

/// <summary>
/// One running qemu process as /proc shows it. <see cref="Name"/> is qemu's <c>-name</c> (or the libvirt
/// domain owning the pid); only a qemu started without either falls back to "qemu-PID".
/// </summary>
public sealed record DiscoveredVm(string Name, int Pid, string Uuid, string? LibvirtDomain, IReadOnlyList<DiscoveredThread> Threads,
    IReadOnlyList<string> TapDevices, string? TraceLogFile)
{
    public VmInventory ToInventory() =>
        new(Name, Pid, Threads.Select(t => new InventoryThread(t.Tid, t.Comm)).ToList(), TapDevices);

    /// <summary>What an inventory record would say: two scans with the same key need no new record.</summary>
    public string ChangeKey =>
        $"{Name}|{Pid}|{Uuid}|{string.Join(",", Threads.Select(t => $"{t.Tid}:{t.Comm}"))}|{string.Join(",", TapDevices)}";
}
