namespace Vmtrace.Analysis;

/// <summary>
/// The thresholds of the episode rules (docs/metrics.md, "Interference episodes"). They are relative to the VM's own
/// demand or baseline; the absolute floors only keep a VM that wants almost nothing from counting as contended.
/// </summary>
public static class EpisodeRules
{
    /// <summary>cpu: a window is contended when the VM lost at least this fraction of the CPU time its vCPUs wanted to others…</summary>
    public const double CpuMinWindowSeverity = 0.05;

    /// <summary>…and that lost time is at least this fraction of the window's length (20 ms of a 1 s window).</summary>
    public const double CpuMinLostShareOfWindow = 0.02;

    /// <summary>
    /// cpu: a window whose largest culprit had less than this share of the open episode's preempted-by-others time so far
    /// starts a new episode (a new contender arrived).
    /// </summary>
    public const double CpuNewCulpritShare = 0.1;

    /// <summary>cpu: …once the open episode has lasted this many windows (a young episode's shares are still settling).</summary>
    public const int CpuNewCulpritMinWindows = 3;

    /// <summary>exits: windows of the VM seen before a storm can be told from its baseline.</summary>
    public const int ExitBaselineWindows = 5;

    /// <summary>exits: a reason storms when its rate is at least this many times its baseline rate…</summary>
    public const double ExitStormRatio = 4;

    /// <summary>…and at least this many exits per second.</summary>
    public const double ExitStormMinRatePerSecond = 1000;

    /// <summary>exits: weight of each window not in a storm in the reason's baseline rate, once the first windows set it (their plain mean).</summary>
    public const double ExitBaselineWeight = 0.2;
}
