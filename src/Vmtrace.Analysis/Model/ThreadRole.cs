namespace Vmtrace.Analysis;

/// <summary>What a thread does for its VM.</summary>
internal enum ThreadRole : byte
{
    /// <summary>A host thread, or a VM thread of no special role (qemu main loop, I/O workers).</summary>
    Other,
    /// <summary>Runs a vCPU (kvm_entry seen, or named <c>CPU n/KVM</c>, <c>CPU n/TCG</c>).</summary>
    Vcpu,
    /// <summary>A vhost worker (<c>vhost-&lt;pid&gt;</c>).</summary>
    Vhost,
}
