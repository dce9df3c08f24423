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

    /// <summary>
    /// Blocks until <paramref name="time"/>'s timestamp reaches <paramref name="dueTimestamp"/> (of
    /// <see cref="TimeProvider.GetTimestamp"/>), or until <paramref name="cancellationToken"/> is cancelled (then throws).
    /// The clock is read again once the timer is armed: a clock moved on between the read and the arming (a test's
    /// fake clock) cannot leave the wait armed for a time already past.
    /// </summary>
    public static void WaitUntil(this TimeProvider time, long dueTimestamp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var done = new ManualResetEventSlim(); // not disposed: see Wait
        using var timer = time.CreateTimer(static state => ((ManualResetEventSlim)state!).Set(), done, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = time.GetElapsedTime(time.GetTimestamp(), dueTimestamp);
            if (left <= TimeSpan.Zero)
                return;
            done.Reset();
            timer.Change(left, Timeout.InfiniteTimeSpan);
            if (time.GetElapsedTime(time.GetTimestamp(), dueTimestamp) <= TimeSpan.Zero)
                return;
            done.Wait(cancellationToken);
        }
    }

    /// <summary>The clock's time as ns since the Unix epoch (UTC).</summary>
    public static long UnixNanoseconds(this TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
    }
}
