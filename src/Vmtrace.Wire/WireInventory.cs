namespace Vmtrace.Wire;

/// <summary>One thread of a VM's process; <see cref="VcpuIndex"/> is -1 for threads that are not vCPUs.</summary>
public sealed record WireVmThread(int Tid, string Comm, int VcpuIndex = -1);

/// <summary>
/// One VM as the agent knows it (/proc, vmmap.json, or inferred from a recorded trace): qemu's -name, process id,
/// -uuid, tap devices, threads, and how it was identified (vmmap, cmdline, tgid, fork, names, guess; empty = vmmap)
/// with what that rests on.
/// </summary>
public sealed record WireVm(string Name, int Pid, string Uuid, IReadOnlyList<string> TapDevices, IReadOnlyList<WireVmThread> Threads,
    string Identity = "", string Evidence = "");

/// <summary>A host thread's name known up front (saved_cmdlines, statedump, /proc).</summary>
public readonly record struct WireThreadName(int Tid, string Comm);

/// <summary>The body of an <c>Inventory</c> record: the host's VMs and the thread names known up front.</summary>
public sealed record WireInventory(IReadOnlyList<WireVm> Vms, IReadOnlyList<WireThreadName> ThreadNames, long SampledAtNs = 0)
{
    /// <summary>Guest traces streamed with the host's (schema version 3); their events are marked in the batches.</summary>
    public IReadOnlyList<WireGuest> Guests { get; init; } = [];
}

/// <summary>The host thread of a guest CPU, as the host's trace.dat recorded it (trace-cmd's GUEST option).</summary>
public readonly record struct WireGuestCpu(int Cpu, int HostTid);

/// <summary>
/// A guest trace streamed under its host: its NAME (the VM), the host thread of each guest CPU when the host trace recorded
/// them (empty: guest CPU n is vCPU n of the VM named <see cref="Name"/>), and the guest's thread names known up front.
/// </summary>
public sealed record WireGuest(string Name, IReadOnlyList<WireGuestCpu> Cpus, IReadOnlyList<WireThreadName> ThreadNames);
