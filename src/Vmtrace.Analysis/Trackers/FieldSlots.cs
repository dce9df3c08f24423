using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>Where some fields sit in one event type, resolved once per type (<see cref="SwitchFields"/>, <see cref="KvmFields"/>).</summary>
internal abstract class FieldSlots(EventType? type)
{
    /// <summary>The event type the slots are of; null for the value that matches none.</summary>
    public EventType? Type { get; } = type;

    /// <summary>The integer in <paramref name="slot"/> (-1: no such field), or <paramref name="fallback"/> when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Get(in TraceEvent e, int slot, long fallback) =>
        slot >= 0 && e.IsPresent(slot) ? e.GetInt64(slot) : fallback;

    /// <summary>The text in <paramref name="slot"/> (-1: no such text field), or empty when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Text(in TraceEvent e, int slot) =>
        slot >= 0 && e.IsPresent(slot) ? e.GetBytes(slot) : default;
}

/// <summary>
/// The slots of the event types seen: the last one first (a trace has one type of each event), then the others (merged
/// traces, one type each). One cache per kind of event, where kinds alternate. Nothing allocated per event.
/// </summary>
internal sealed class FieldSlotsCache<T>(T none, Func<EventType, T> resolve)
    where T : FieldSlots
{
    private T _last = none;
    private readonly Dictionary<EventType, T> _byType = [];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Of(EventType type)
    {
        var last = _last;
        return ReferenceEquals(last.Type, type) ? last : Miss(type);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private T Miss(EventType type)
    {
        if (!_byType.TryGetValue(type, out var fields))
            _byType.Add(type, fields = resolve(type));
        _last = fields;
        return fields;
    }
}
