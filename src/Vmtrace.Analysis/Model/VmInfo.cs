namespace Vmtrace.Analysis;

/// <summary>One VM (one qemu process). Named from the inventory (qemu -name) or after its pid (fallback).</summary>
internal sealed class VmInfo
{
    public VmInfo(int index, string name, int pid, int culpritId)
    {
        Index = index;
        Name = name;
        Pid = pid;
        CulpritId = culpritId;
    }

    public int Index { get; }
    public string Name { get; set; }
    /// <summary>Process id, or -1 when the VM is a fallback identity built from a vCPU thread.</summary>
    public int Pid { get; }
    public int CulpritId { get; set; }
    public List<VcpuInfo> Vcpus { get; } = [];
    public VmAccumulator Window { get; } = new();
    public HashSet<string> TapDevices { get; } = new(StringComparer.Ordinal);
    /// <summary>How the identity was found, for the report ("inventory", "process", "fallback: …").</summary>
    public string Origin { get; set; } = "";
    /// <summary>
    /// The qemu event family that gives this VM's qemu-layer request direction (the first one seen): qemu
    /// emits several per request when several are enabled, and each request must be counted once.
    /// </summary>
    public QemuDirectionSource QemuDirectionSource { get; set; }

    /// <summary>How the VM was identified: one of <see cref="VmIdentity"/>.</summary>
    public string Identity { get; set; } = VmIdentity.Guess;
}
