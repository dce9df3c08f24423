using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Where kvm_entry's and kvm_exit's fields sit in one event type, resolved once per type: every VM entry and exit then
/// reads its fields by slot instead of resolving each role on every event. Reads give exactly what
/// <see cref="TraceEvent.Get"/> gives for the role (<see cref="FieldSlots.Get"/>).
/// </summary>
internal sealed class KvmFields : FieldSlots
{
    private KvmFields(EventType? type)
        : base(type)
    {
        if (type is null)
            return;
        VcpuId = type.Slot(FieldRole.VcpuId);
        GuestRip = type.Slot(FieldRole.GuestRip);
        ExitReason = type.Slot(FieldRole.ExitReason);
        Isa = type.Slot(FieldRole.Isa);
    }

    /// <summary>Matches no event type: a cache's value before its first event.</summary>
    public static KvmFields None { get; } = new(null);

    public int VcpuId { get; } = -1;
    public int GuestRip { get; } = -1;
    public int ExitReason { get; } = -1;
    public int Isa { get; } = -1;

    public static KvmFields Of(EventType type) => new(type);
}
