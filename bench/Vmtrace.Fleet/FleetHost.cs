using Vmtrace.Agent;

namespace Vmtrace.Fleet;

/// <summary>
/// One simulated host: a recorded trace replayed by the agent's own pipeline under the host's id, shifted to now minus
/// a whole number of seconds, at a jittered speed, on a thread of its own (the replay's pacing blocks). A silent host
/// stops sending (no event, no heartbeat) after a few records for a while, then comes back and catches up.
/// </summary>
public sealed class FleetHost
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AgentPipeline? _pipeline;
    private SilencingSink? _sink;

    public FleetHost(string id, FleetTrace trace, PreparedTrace prepared, TimeSpan startDelay, int shiftBackSeconds, double speed, int? silentAfterRecords)
    {
        Id = id;
        Trace = trace;
        Prepared = prepared;
        StartDelay = startDelay;
        ShiftBackSeconds = shiftBackSeconds;
        Speed = speed;
        SilentAfterRecords = silentAfterRecords;
    }

    public string Id { get; }

    public FleetTrace Trace { get; }

    public PreparedTrace Prepared { get; }

    public TimeSpan StartDelay { get; }

    public int ShiftBackSeconds { get; }

    public double Speed { get; }

    /// <summary>After how many records the host goes silent; null for a host that never does.</summary>
    public int? SilentAfterRecords { get; }

    /// <summary>The replay's shift (ns), known once its first event was read.</summary>
    public long ShiftNs => _pipeline?.LastShiftNs ?? 0;

    public long EventsSent => _pipeline?.Counters.EventsSent ?? 0;

    /// <summary>Whether the host actually went silent (it had more records than <see cref="SilentAfterRecords"/>).</summary>
    public bool WentSilent => _sink?.WentSilent ?? false;

    /// <summary>Ends when the replay is over and Kafka acknowledged its last record; faults with the replay's error.</summary>
    public Task Completion => _done.Task;

    /// <summary>How long a planned replay takes (paced), silence included.</summary>
    public TimeSpan PlannedDuration(TimeSpan silence) =>
        (Speed > 0 ? TimeSpan.FromSeconds(Prepared.SpanSeconds / Speed) : TimeSpan.Zero) + (SilentAfterRecords is null ? TimeSpan.Zero : silence);

    public void Start(IRecordSink shared, TimeSpan silence, CancellationToken cancellationToken)
    {
        var options = new AgentOptions
        {
            HostId = Id,
            Speed = Speed,
            Replay = { ShiftToNow = true, Shift = TimeSpan.FromSeconds(-ShiftBackSeconds) },
            StopWhenDone = false,
        };
        _sink = new SilencingSink(shared, SilentAfterRecords ?? int.MaxValue, silence);
        _pipeline = new AgentPipeline(new ReplaySource(Prepared.Inputs, Id, Prepared.Inventory), _sink, options);
        var thread = new Thread(() =>
        {
            try
            {
                _pipeline.Run(cancellationToken);
                _done.TrySetResult();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _done.TrySetCanceled(cancellationToken);
            }
            catch (Exception ex)
            {
                _done.TrySetException(ex);
            }
        }, maxStackSize: 1024 * 1024)
        {
            IsBackground = true,
            Name = "fleet " + Id,
        };
        thread.Start();
    }

    /// <summary>Passes records on, except that before record number <c>silentAfter</c> it says nothing for <c>silence</c>.</summary>
    private sealed class SilencingSink(IRecordSink inner, int silentAfter, TimeSpan silence) : IRecordSink
    {
        private int _sent;

        public bool WentSilent { get; private set; }

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
        {
            if (_sent == silentAfter)
            {
                WentSilent = true;
                cancellationToken.WaitHandle.WaitOne(silence);
                cancellationToken.ThrowIfCancellationRequested();
            }
            _sent++;
            inner.Send(key, value, sessionEnd, cancellationToken);
        }

        /// <summary>
        /// Nothing: a replay's end would wait for the whole shared producer to drain, which the other hosts keep filling
        /// (and librdkafka's flush from many threads at once returned early). The driver flushes every producer once all
        /// replays are over; a host's records stay in order before its session end all the same (one producer, one partition).
        /// </summary>
        public void Flush(TimeSpan timeout)
        {
        }
    }
}
