namespace Vmtrace.Agent;

/// <summary>
/// Blocking waits on a <see cref="TimeProvider"/>'s timer, for the agent's loops that run on a thread of their own
/// (paced replay, live polling): with a fake clock in tests a wait ends when the test advances the clock.
/// </summary>
public static class TimeProviderWaits
{
    /// <summary>Blocks for <paramref name="delay"/> on <paramref name="time"/>'s clock, or until <paramref name="cancellationToken"/> is cancelled (then throws).</summary>
    public static void Wait(this TimeProvider time, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (delay <= TimeSpan.Zero)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }
        // Not disposed: the timer's callback may still run after a cancelled wait returned (it holds no kernel handle).
        var done = new ManualResetEventSlim();
        using var timer = time.CreateTimer(static state => ((ManualResetEventSlim)state!).Set(), done, delay, Timeout.InfiniteTimeSpan);
        done.Wait(cancellationToken);
    }

    /// <summary>The clock's time as ns since the Unix epoch (UTC).</summary>
    public static long UnixNanoseconds(this TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
    }
}
