namespace Vmtrace.Agent.Live.Discovery;

/// <summary>
/// Decides when the agent sends an inventory: at the first scan, whenever a VM appears, leaves or changes
/// (threads, taps, name), and every <see cref="Period"/> even without change.
/// </summary>
public sealed class InventoryTracker
{
    private string? _lastKey;
    private long _lastSentMs = long.MinValue;

    public InventoryTracker(TimeSpan period) => Period = period;

    public TimeSpan Period { get; }

    /// <summary>True when <paramref name="vms"/> must be sent now; it is then taken as sent.</summary>
    public bool ShouldSend(IReadOnlyList<DiscoveredVm> vms, long nowMs)
    {
        string key = string.Join("\n", vms.Select(v => v.ChangeKey));
        bool due = _lastKey is null || key != _lastKey || nowMs - _lastSentMs >= (long)Period.TotalMilliseconds;
        if (due)
        {
            _lastKey = key;
            _lastSentMs = nowMs;
        }
        return due;
    }
}
