namespace Vmtrace.Agent.Live;

/// <summary>
/// How a live source waits for data, on one injected clock: a read polls what it follows until it has an event or
/// its wait is over, pausing <see cref="Interval"/> between two polls that found nothing. How long a read may wait is
/// the caller's (the agent's pacing); the sources only produce events.
/// </summary>
public sealed class LivePoll
{
    public LivePoll(TimeSpan interval, TimeProvider? time = null)
    {
        if (interval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "a poll interval cannot be negative");
        Interval = interval;
        Time = time ?? TimeProvider.System;
    }

    /// <summary>The pause between two polls that found nothing.</summary>
    public TimeSpan Interval { get; }

    public TimeProvider Time { get; }

    /// <summary>A read's wait begins: the value to pass to <see cref="PauseWithin"/>.</summary>
    public long Begin() => Time.GetTimestamp();

    /// <summary>After a poll that found nothing: false when <paramref name="maxWait"/> since <paramref name="begun"/> is over, else pauses one interval (at most what is left of the wait) and returns true.</summary>
    public bool PauseWithin(long begun, TimeSpan maxWait)
    {
        var left = maxWait - Time.GetElapsedTime(begun);
        if (left <= TimeSpan.Zero)
            return false;
        Time.Wait(left < Interval ? left : Interval);
        return true;
    }

    /// <summary>Realtime now, ns since the Unix epoch, on this clock.</summary>
    public long NowRealtime() => Time.UnixNanoseconds();
}
