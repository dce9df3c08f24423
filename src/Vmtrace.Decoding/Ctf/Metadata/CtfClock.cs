namespace Vmtrace.Decoding.Ctf;

/// <summary>A TSDL <c>clock</c> block: cycles to nanoseconds since its origin.</summary>
public sealed class CtfClock
{
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    /// <summary>Cycles per second (1 GHz for LTTng and perf).</summary>
    public ulong Frequency { get; init; } = 1_000_000_000;
    public long OffsetSeconds { get; init; }
    /// <summary>Offset from the origin in cycles, added to every value.</summary>
    public long OffsetCycles { get; init; }
    /// <summary>The TSDL <c>absolute</c> attribute: the clock is a global reference across traces. Offsets count from the UNIX epoch either way.</summary>
    public bool Absolute { get; init; }

    /// <summary>Nanoseconds since the UNIX epoch (offset_s, offset, then the value, all converted with freq) of a clock value in cycles.</summary>
    public long ToNanoseconds(ulong cycles)
    {
        if (Frequency == 1_000_000_000)
            return OffsetSeconds * 1_000_000_000 + OffsetCycles + (long)cycles;
        var total = (Int128)OffsetCycles + cycles;
        return OffsetSeconds * 1_000_000_000 + (long)(total * 1_000_000_000 / Frequency);
    }
}
