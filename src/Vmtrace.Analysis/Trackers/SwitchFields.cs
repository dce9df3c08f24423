using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Where sched_switch's fields sit in one event type, resolved once per type: a switch then reads its five fields
/// by slot instead of resolving each role (and checking that a name is text) on every event. Reads give exactly
/// what <see cref="TraceEvent.Get"/> and <see cref="TraceEvent.GetText"/> give for the role.
/// </summary>
internal sealed class SwitchFields : FieldSlots
{
    private SwitchFields(EventType? type)
        : base(type)
    {
        if (type is null)
            return;
        PrevTid = type.Slot(FieldRole.PrevTid);
        NextTid = type.Slot(FieldRole.NextTid);
        PrevState = type.Slot(FieldRole.PrevState);
        PrevComm = TextSlot(type, FieldRole.PrevComm);
        NextComm = TextSlot(type, FieldRole.NextComm);
    }

    /// <summary>Matches no event type: the cache's value before the first switch.</summary>
    public static SwitchFields None { get; } = new(null);

    public int PrevTid { get; } = -1;
    public int NextTid { get; } = -1;
    public int PrevState { get; } = -1;
    /// <summary>-1 also when the field is not text (<see cref="TraceEvent.GetText"/> gives nothing then).</summary>
    public int PrevComm { get; } = -1;
    public int NextComm { get; } = -1;

    public static SwitchFields Of(EventType type) => new(type);

    private static int TextSlot(EventType type, FieldRole role)
    {
        int slot = type.Slot(role);
        return slot >= 0 && type.Fields[slot].Kind == FieldKind.String ? slot : -1;
    }
}
