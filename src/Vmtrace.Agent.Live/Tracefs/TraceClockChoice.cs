using Vmtrace.Agent.Live.Native;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>
/// The ftrace clock of the instance and how it maps to realtime. The agent delivers realtime ns so qemu's
/// log (gettimeofday stamps) and other hosts line up: kernel stamps are shifted by realtime − clock,
/// measured when tracing starts. "mono" (the default) never jumps with NTP steps; "boot" also counts
/// suspend; "tai" is realtime plus the kernel's TAI offset.
/// </summary>
public sealed class TraceClockChoice
{
    private TraceClockChoice(string name, int clockId)
    {
        Name = name;
        ClockId = clockId;
    }

    /// <summary>The name written to <c>trace_clock</c>.</summary>
    public string Name { get; }

    /// <summary>The clock_gettime id that reads the same clock from user space.</summary>
    internal int ClockId { get; }

    public static TraceClockChoice Parse(string name) => name switch
    {
        "mono" => new TraceClockChoice("mono", LibC.ClockMonotonic),
        "boot" => new TraceClockChoice("boot", LibC.ClockBoottime),
        "tai" => new TraceClockChoice("tai", LibC.ClockTai),
        _ => throw new ArgumentException($"trace clock '{name}' is not supported by the live source: use mono, boot or tai (clocks user space can read too)", nameof(name)),
    };

    /// <summary>Now, on this clock, in ns.</summary>
    public long Now() => LibC.Now(ClockId);

    /// <summary>
    /// realtime − this clock, in ns: the tightest of a few bracketed readings (realtime read between two
    /// readings of this clock), so the error is the time of one clock_gettime call.
    /// </summary>
    public long MeasureRealtimeOffset()
    {
        long best = long.MaxValue, offset = 0;
        for (int i = 0; i < 16; i++)
        {
            long a = Now();
            long r = LibC.Now(LibC.ClockRealtime);
            long b = Now();
            if (b - a < best)
            {
                best = b - a;
                offset = r - (a + (b - a) / 2);
            }
        }
        return offset;
    }
}
