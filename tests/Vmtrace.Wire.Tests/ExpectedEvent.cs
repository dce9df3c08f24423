using Vmtrace.Decoding;

namespace Vmtrace.Wire.Tests;

/// <summary>What of an original event must survive the wire: timestamp, CPU, tid, type, and every field the selection keeps.</summary>
internal sealed record ExpectedEvent(long Timestamp, int Cpu, int Tid, KnownEvent Known, string Name, string? System,
    string[] FieldNames, long?[] Ints, byte[]?[] Strings)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<EventType, int[]> s_slots = new();

    public static ExpectedEvent Capture(in TraceEvent e)
    {
        var slots = s_slots.GetOrAdd(e.Type, t => WireEventSelection.SelectSlots(t, out _));
        var names = new string[slots.Length];
        var ints = new long?[slots.Length];
        var strings = new byte[]?[slots.Length];
        for (int k = 0; k < slots.Length; k++)
        {
            int s = slots[k];
            names[k] = e.Type.Fields[s].Name;
            if (!e.IsPresent(s))
                continue;
            if (e.Type.Fields[s].Kind == FieldKind.String)
                strings[k] = e.GetBytes(s).ToArray();
            else
                ints[k] = e.GetInt64(s);
        }
        return new ExpectedEvent(e.Timestamp, e.Cpu, e.Tid, e.Known, e.Type.Name, e.Type.System, names, ints, strings);
    }

    /// <summary>Fails with the event's index when the decoded event differs.</summary>
    public void AssertSame(in TraceEvent d, long index)
    {
        string at = $"event {index} ({Name} at {Timestamp})";
        Assert.True(Timestamp == d.Timestamp, $"{at}: timestamp {d.Timestamp}");
        Assert.True(Cpu == d.Cpu, $"{at}: cpu {d.Cpu}, expected {Cpu}");
        Assert.True(Tid == d.Tid, $"{at}: tid {d.Tid}, expected {Tid}");
        Assert.True(Known == d.Known, $"{at}: known {d.Known}, expected {Known}");
        Assert.Equal(Name, d.Type.Name);
        Assert.Equal(System, d.Type.System);
        Assert.True(FieldNames.Length == d.FieldCount, $"{at}: {d.FieldCount} fields, expected {FieldNames.Length}");
        for (int k = 0; k < FieldNames.Length; k++)
        {
            Assert.Equal(FieldNames[k], d.Type.Fields[k].Name);
            bool present = Ints[k] is not null || Strings[k] is not null;
            Assert.True(present == d.IsPresent(k), $"{at}: field {FieldNames[k]} presence");
            if (Strings[k] is { } text)
                Assert.True(text.AsSpan().SequenceEqual(d.GetBytes(k)), $"{at}: field {FieldNames[k]} text");
            else if (Ints[k] is long v)
                Assert.True(v == d.GetInt64(k), $"{at}: field {FieldNames[k]} = {d.GetInt64(k)}, expected {v}");
        }
    }
}
