namespace Vmtrace.Agent;

/// <summary>
/// Where a replay lands in time (section <c>Agent:Replay</c>). A recorded trace keeps its recorded times by
/// default; shifted, it can fill dashboards whose range is "the last N minutes" (the docker-compose demo) or
/// lay a trace down on past days (history for the capacity dashboard's forecast).
/// </summary>
public sealed class ReplayTimingOptions
{
    /// <summary>
    /// Every shift is a whole multiple of this, so the worker's windows cut the shifted events exactly where they cut
    /// the recorded ones (set it to <c>Worker:Window</c>, or a multiple, when that is not the default 1 s). Kept
    /// short by default: a paced replay shifted to now runs this much behind the clock at most, and the rollup
    /// continuous queries, run at the end of each minute, miss what arrives after it.
    /// </summary>
    public TimeSpan Align { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Shift every event so the first one lands within <see cref="Align"/> before the replay starts.</summary>
    public bool ShiftToNow { get; set; }

    /// <summary>A fixed shift added to every event time (after <see cref="ShiftToNow"/>), a multiple of <see cref="Align"/>; may be negative.</summary>
    public TimeSpan Shift { get; set; }

    /// <summary>Replay the inputs again and again, each pass a new session shifted to start after the previous one
    /// ended (needs <see cref="ShiftToNow"/> and a paced <see cref="AgentOptions.Speed"/>).</summary>
    public bool Loop { get; set; }

    public IEnumerable<string> Problems(double speed)
    {
        if (Align <= TimeSpan.Zero)
            yield return $"Agent:Replay:Align must be positive, not {Align}";
        else if (Shift.Ticks % Align.Ticks != 0)
            yield return $"Agent:Replay:Shift must be a whole multiple of Agent:Replay:Align ({Align}: windows stay aligned), not {Shift}";
        if (Loop && !ShiftToNow)
            yield return "Agent:Replay:Loop needs Agent:Replay:ShiftToNow (otherwise every pass rewrites the same times)";
        if (Loop && speed <= 0)
            yield return "Agent:Replay:Loop needs a paced Agent:Speed (e.g. 1): at full speed the passes would run ahead of the clock without bound";
    }

    /// <summary>
    /// The shift (ns) for a pass whose first event is at <paramref name="firstEvent"/>: <see cref="Shift"/>, plus,
    /// with <see cref="ShiftToNow"/>, whole <see cref="Align"/> units that put the first event within one unit before
    /// <paramref name="nowNs"/>, or just after <paramref name="notBeforeNs"/> (a loop's previous pass) if that is later.
    /// </summary>
    public long ShiftFor(long firstEvent, long nowNs, long notBeforeNs)
    {
        long fixedShift = Shift.Ticks * 100;
        if (!ShiftToNow)
            return fixedShift;
        long unit = Align.Ticks * 100;
        long toNow = FloorDiv(nowNs - firstEvent, unit) * unit;
        if (notBeforeNs != long.MinValue && firstEvent + toNow <= notBeforeNs)
            toNow = (FloorDiv(notBeforeNs - firstEvent, unit) + 1) * unit;
        return toNow + fixedShift;
    }

    private static long FloorDiv(long a, long b) => a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}
