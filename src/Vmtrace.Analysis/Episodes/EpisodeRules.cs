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

    /// <summary>disk: a window counts (for the baseline or an episode) when the VM completed at least this many requests in it.</summary>
    public const int DiskMinRequests = 10;

    /// <summary>
    /// disk: others' I/O shares a window when the other VMs' and host threads' I/O time on the host's devices is more than this
    /// fraction of the VM's own; windows it does not share start the VM's baseline.
    /// </summary>
    public const double DiskQuietOthersShare = 0.1;

    /// <summary>disk: windows that start the baseline (their request-weighted mean latency) before an episode can be told.</summary>
    public const int DiskBaselineWindows = 3;

    /// <summary>disk: weight of each later window outside an episode in the baseline.</summary>
    public const double DiskBaselineWeight = 0.2;

    /// <summary>disk: a window is contended when its mean latency is at least this many times the baseline…</summary>
    public const double DiskInflationRatio = 1.5;

    /// <summary>disk: an open episode goes on while the latency is at least this many times the baseline (the same other conditions).</summary>
    public const double DiskContinueRatio = 1.25;

    /// <summary>
    /// …the request time lost, (latency − baseline) × requests, is at least this fraction of the window's length, and others'
    /// I/O shared the window or others took enough of the pCPUs to explain the inflation (the VM's vCPUs lost at least
    /// 1 − 1 / ratio of the CPU time they wanted to others, and at least <see cref="CpuMinLostShareOfWindow"/> of the window).
    /// </summary>
    public const double DiskMinLostShareOfWindow = 0.02;

    /// <summary>net: a window counts when the VM's taps carried at least this many packets in it.</summary>
    public const int NetMinPackets = 100;

    /// <summary>net: a window is contended when its vhost threads lost at least this fraction of the time they wanted to others…</summary>
    public const double NetMinWindowSeverity = 0.05;

    /// <summary>…and that lost time is at least this fraction of the window's length (5 ms of a 1 s window).</summary>
    public const double NetMinLostShareOfWindow = 0.005;
}
