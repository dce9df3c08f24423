using Vmtrace.Wire;

namespace Vmtrace.Agent;

/// <summary>
/// When the agent's records go out, for a replay and a live source alike, on one injected clock: a batch leaves when
/// it is full (<see cref="AgentOptions.BatchMaxEvents"/>, <see cref="AgentOptions.BatchMaxSpan"/>: the batch writer
/// says) or once it has been held <see cref="AgentOptions.BatchMaxDelay"/>; a paced replay releases each event when
/// the clock reaches its time scaled by <see cref="AgentOptions.Speed"/>, and lands where
/// <see cref="AgentOptions.Replay"/> says; a live read waits at most <see cref="LiveReadWait"/>. The sources only
/// produce events. Nothing here allocates per event; the clock is read once per <see cref="ClockCheckEvents"/> events
/// on a busy stream (a clock read costs more than appending an event).
/// </summary>
public sealed class AgentPacing
{
    /// <summary>Events appended between two reads of the clock while events keep coming.</summary>
    public const int ClockCheckEvents = 64;

    private readonly TimeProvider _time;
    private readonly long _maxDelayTicks;
    private readonly double _ticksPerEventNs;
    private readonly long _slackTicks;
    private readonly ReplayTimingOptions _replay;
    private readonly AgentOptions _options;
    private long _batchStarted;
    private long _replayStarted;
    private long _firstEvent = long.MinValue;

    public AgentPacing(AgentOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? TimeProvider.System;
        long frequency = _time.TimestampFrequency;
        _maxDelayTicks = (long)(options.BatchMaxDelay.TotalSeconds * frequency);
        _ticksPerEventNs = options.Speed > 0 ? frequency / 1e9 / options.Speed : 0;
        // A wait shorter than this is not worth it: the event goes now.
        _slackTicks = Math.Max(1, frequency / 1000);
        _replay = options.Replay;
        _options = options;
        // A live read waits long enough not to spin, short enough that heartbeats keep their interval.
        LiveReadWait = TimeSpan.FromTicks(Math.Clamp(options.HeartbeatInterval.Ticks / 4, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
    }

    public TimeProvider Time => _time;

    /// <summary>When a batch is full: <see cref="AgentOptions.BatchMaxEvents"/> events or <see cref="AgentOptions.BatchMaxSpan"/> of event time.</summary>
    public EventBatchWriterOptions BatchLimits() => new()
    {
        MaxEvents = _options.BatchMaxEvents,
        MaxSpanNs = _options.BatchMaxSpan.Ticks * 100,
    };

    /// <summary>Watermark heartbeats, every <see cref="AgentOptions.HeartbeatInterval"/>.</summary>
    public Cadence Heartbeats(long now) => new(this, _options.HeartbeatInterval, now);

    /// <summary>The inventory sent again, every <see cref="AgentOptions.InventoryInterval"/>.</summary>
    public Cadence Inventories(long now) => new(this, _options.InventoryInterval, now);

    /// <summary>A live host rescanned for VMs, every <see cref="AgentOptions.InventoryCheckInterval"/>.</summary>
    public Cadence InventoryScans(long now) => new(this, _options.InventoryCheckInterval, now);

    /// <summary>Agent health records, every <see cref="AgentOptions.HealthInterval"/>.</summary>
    public Cadence HealthRecords(long now) => new(this, _options.HealthInterval, now);

    /// <summary>True when a replay is paced (<see cref="AgentOptions.Speed"/> &gt; 0), false as fast as possible.</summary>
    public bool IsPaced => _ticksPerEventNs > 0;

    /// <summary>The longest a live source's read waits for an event before the agent looks at its batch and intervals.</summary>
    public TimeSpan LiveReadWait { get; }

    /// <summary>The clock now (the <see cref="TimeProvider"/>'s timestamp), for the interval checks.</summary>
    public long Now() => _time.GetTimestamp();

    /// <summary>A replay pass begins: its first event is due now.</summary>
    public void StartReplay()
    {
        _replayStarted = _time.GetTimestamp();
        _firstEvent = long.MinValue;
        _batchStarted = _replayStarted;
    }

    /// <summary>The shift (ns) of a replay pass whose first event is at <paramref name="firstEvent"/>, after <paramref name="notBeforeNs"/> (the previous pass's end, or long.MinValue).</summary>
    public long ReplayShift(long firstEvent, long notBeforeNs) => _replay.ShiftFor(firstEvent, _time.UnixNanoseconds(), notBeforeNs);

    /// <summary>True when a replay shifts its events (to now, or by a fixed amount).</summary>
    public bool ShiftsReplay => _replay.ShiftToNow || _replay.Shift != TimeSpan.Zero;

    /// <summary>
    /// Paced replay, before the event at <paramref name="eventTime"/> is released: true when the clock has not reached
    /// its time yet; <paramref name="due"/> is when it has. An unpaced replay never waits.
    /// </summary>
    public bool MustWaitFor(long eventTime, out long due)
    {
        due = 0;
        if (_ticksPerEventNs <= 0)
            return false;
        if (_firstEvent == long.MinValue)
            _firstEvent = eventTime;
        due = _replayStarted + (long)((eventTime - _firstEvent) * _ticksPerEventNs);
        return due - _time.GetTimestamp() >= _slackTicks;
    }

    /// <summary>Whether a batch begun earlier would be held too long if it waited until <paramref name="due"/>: then it goes out first.</summary>
    public bool WouldHoldTooLong(long due) => due - _batchStarted >= _maxDelayTicks;

    /// <summary>Blocks until the clock reaches <paramref name="due"/> (a timestamp of <see cref="Now"/>'s clock), or cancellation (then throws).</summary>
    public void WaitUntil(long due, CancellationToken cancellationToken) => _time.WaitUntil(due, cancellationToken);

    /// <summary>The first event of a new batch is appended now.</summary>
    public void BatchStarted() => _batchStarted = _time.GetTimestamp();

    /// <summary>
    /// After an event was appended (the <paramref name="read"/>th): whether the clock is to be read now, once per
    /// <see cref="ClockCheckEvents"/> events.
    /// </summary>
    public static bool ClockCheckDue(long read) => (read & (ClockCheckEvents - 1)) == 0;

    /// <summary>Whether a batch of <paramref name="eventCount"/> events has been held <see cref="AgentOptions.BatchMaxDelay"/> at <paramref name="now"/>.</summary>
    public bool BatchHeldTooLong(int eventCount, long now) => eventCount > 0 && now - _batchStarted >= _maxDelayTicks;

    /// <summary>Whether <paramref name="interval"/> has passed between <paramref name="since"/> and <paramref name="now"/> (timestamps of <see cref="Now"/>).</summary>
    private bool Elapsed(long since, long now, TimeSpan interval) => _time.GetElapsedTime(since, now) >= interval;

    /// <summary>Something the agent does every <see cref="Interval"/> of the pacing's clock.</summary>
    public sealed class Cadence
    {
        private readonly AgentPacing _pacing;
        private long _last;

        internal Cadence(AgentPacing pacing, TimeSpan interval, long now)
        {
            _pacing = pacing;
            Interval = interval;
            _last = now;
        }

        public TimeSpan Interval { get; }

        /// <summary>Whether an interval has passed at <paramref name="now"/> since it was last done.</summary>
        public bool IsDue(long now) => _pacing.Elapsed(_last, now, Interval);

        /// <summary>It was done at <paramref name="now"/>: the next interval starts.</summary>
        public void Done(long now) => _last = now;

        /// <summary>True, and the next interval starts, when an interval has passed at <paramref name="now"/>.</summary>
        public bool TakeIfDue(long now)
        {
            if (!IsDue(now))
                return false;
            _last = now;
            return true;
        }
    }
}
