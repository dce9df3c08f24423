using Vmtrace.Decoding;

namespace Vmtrace.Agent;

/// <summary>
/// Spots a QEMU process starting in the live event stream (a <c>sched_process_exec</c> of <c>qemu-system-*</c> or
/// <c>qemu-kvm</c>), so that the agent rescans the host at once and the inventory naming the new VM reaches the worker
/// before any of the VM's events: the analysis then knows it by that name from its first window, never as
/// <c>qemu-&lt;pid&gt;</c> first. Costs one comparison per event; the file name is read only for exec events.
/// </summary>
internal sealed class QemuStartWatch
{
    private EventType? _execType;
    private int _filenameSlot = -1;

    public bool IsQemuStart(in TraceEvent e)
    {
        if (e.Known != KnownEvent.SchedProcessExec)
            return false;
        if (!ReferenceEquals(e.Type, _execType))
        {
            _execType = e.Type;
            _filenameSlot = Array.FindIndex(e.Type.Fields, f => f.Name == "filename");
        }
        if (_filenameSlot < 0 || !e.IsPresent(_filenameSlot))
            return false;
        var path = e.GetBytes(_filenameSlot);
        int slash = path.LastIndexOf((byte)'/');
        var name = path[(slash + 1)..];
        return name.StartsWith("qemu-system-"u8) || name.SequenceEqual("qemu-kvm"u8);
    }
}
