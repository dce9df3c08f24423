namespace Vmtrace.Kafka;

/// <summary>What a failure of a dependency should make its owner log.</summary>
public enum OutageReport
{
    /// <summary>Nothing: the outage was reported already and its next summary is not due.</summary>
    None,

    /// <summary>The dependency just went down: one line.</summary>
    WentDown,

    /// <summary>Still down: the periodic summary is due (duration, failures, what is held back).</summary>
    StillDown,
}

/// <summary>
/// The up/down state of one dependency (Kafka, InfluxDB) as its clients see it, so that an outage is logged as one
/// line when it starts, a summary every <c>summaryInterval</c> while it lasts, and one line when it ends, however many
/// errors the client library reports meanwhile. Thread-safe (librdkafka reports errors on its own threads).
/// </summary>
public sealed class DependencyOutage(TimeProvider time, TimeSpan summaryInterval)
{
    private readonly Lock _lock = new();
    private bool _down;
    private long _downSince, _lastReport, _failures, _outages;
    private string _lastError = "";

    /// <summary>Down now.</summary>
    public bool IsDown
    {
        get
        {
            lock (_lock)
                return _down;
        }
    }

    /// <summary>Outages begun since start.</summary>
    public long Outages
    {
        get
        {
            lock (_lock)
                return _outages;
        }
    }

    /// <summary>Failures reported in the current (or last) outage.</summary>
    public long Failures
    {
        get
        {
            lock (_lock)
                return _failures;
        }
    }

    /// <summary>How long the current outage has lasted (zero when up).</summary>
    public TimeSpan DownFor
    {
        get
        {
            lock (_lock)
                return _down ? time.GetElapsedTime(_downSince) : TimeSpan.Zero;
        }
    }

    /// <summary>The latest error of the current (or last) outage.</summary>
    public string LastError
    {
        get
        {
            lock (_lock)
                return _lastError;
        }
    }

    /// <summary>A failure (error, refused connection, no answer in time); says whether to log it.</summary>
    public OutageReport Failed(string error)
    {
        lock (_lock)
        {
            long now = time.GetTimestamp();
            _lastError = error;
            if (!_down)
            {
                _down = true;
                _downSince = _lastReport = now;
                _failures = 1;
                _outages++;
                return OutageReport.WentDown;
            }
            _failures++;
            return DueSummary(now);
        }
    }

    /// <summary>Called while down without a new failure (e.g. from a periodic check): whether the summary is due.</summary>
    public OutageReport Tick()
    {
        lock (_lock)
            return _down ? DueSummary(time.GetTimestamp()) : OutageReport.None;
    }

    /// <summary>A success; true exactly once per outage, when it ends (then log one line with <see cref="DownFor"/> taken before).</summary>
    public bool Succeeded(out TimeSpan downFor)
    {
        lock (_lock)
        {
            downFor = TimeSpan.Zero;
            if (!_down)
                return false;
            downFor = time.GetElapsedTime(_downSince);
            _down = false;
            return true;
        }
    }

    private OutageReport DueSummary(long now)
    {
        if (time.GetElapsedTime(_lastReport, now) < summaryInterval)
            return OutageReport.None;
        _lastReport = now;
        return OutageReport.StillDown;
    }
}
