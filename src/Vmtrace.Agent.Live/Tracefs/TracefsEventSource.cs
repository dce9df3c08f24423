using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>
/// The live host trace: the agent's ftrace instance read CPU by CPU from <c>trace_pipe_raw</c>, each CPU's pages
/// decoded by the same <see cref="FtraceCpuStream"/> as a trace.dat's, and merged by timestamp with the same
/// <see cref="TimeOrderedMerge"/>. A CPU whose buffer was empty at clock time T can still deliver events stamped a little
/// before T (reserved before, committed after our read), so events are released only up to the
/// watermark min over empty CPUs of (T − <see cref="TracefsOptions.ReorderSlack"/>): output stays in
/// order. Timestamps are realtime ns (the instance clock shifted by the offset measured at start).
/// Losses reported by the kernel in page headers become <c>vmtrace_lost_events</c> events and count in
/// <see cref="EventSource.Diagnostics"/>; the kernel's own per-CPU counters are in <see cref="ReadKernelStats"/>.
/// A stop switches tracing off, delivers what the buffers hold, then ends.
/// </summary>
public sealed class TracefsEventSource : LiveEventSource
{
    private readonly TracefsInstance _instance;
    private readonly TraceClockChoice _clock;
    private readonly TracePipeRawPages[] _pages;
    private readonly FtraceCpuStream[] _cpus;
    private readonly bool[] _inHeap;
    private readonly long[] _emptySince;
    private readonly TimeOrderedMerge _merge;
    private readonly long _slackNs;
    private readonly Dictionary<int, string> _initialNames;
    private long _watermark = long.MinValue;
    private int _current = -1;
    private bool _draining;
    private bool _ended;

    private TracefsEventSource(TracefsOptions options, TracefsInstance instance, TraceClockChoice clock, TimeProvider? time)
        : base(new LivePoll(options.PollInterval, time))
    {
        _instance = instance;
        _clock = clock;
        _slackNs = (long)options.ReorderSlack.TotalNanoseconds;
        Layout = instance.ReadPageLayout();
        Decoders = new FtraceDecoderTable(instance.ReadFormats(), Layout.BigEndian, Layout.CommitSize);
        var lost = EventType.CreateLostEvents();
        var unknown = new EventType("ftrace_unknown_event", [new FieldDescriptor("type_id", FieldKind.Unsigned)], "ftrace");
        RealtimeOffsetNs = clock.MeasureRealtimeOffset();
        // The kernel's stamps on the instance clock, shifted to realtime: an offset-only conversion.
        var toRealtime = new FtraceTimestampConverter(null, null, RealtimeOffsetNs);
        _pages = new TracePipeRawPages[instance.CpuCount];
        _cpus = new FtraceCpuStream[instance.CpuCount];
        try
        {
            for (int cpu = 0; cpu < _cpus.Length; cpu++)
            {
                string path = instance.PerCpu(cpu, "trace_pipe_raw");
                _pages[cpu] = new TracePipeRawPages(path, Layout.PageSize);
                _cpus[cpu] = new FtraceCpuStream(cpu, _pages[cpu], Layout, Decoders, lost, unknown, toRealtime, Diagnostics, path);
            }
        }
        catch
        {
            foreach (var p in _pages)
                p?.Dispose();
            throw;
        }
        _inHeap = new bool[_cpus.Length];
        _emptySince = new long[_cpus.Length];
        Array.Fill(_emptySince, long.MinValue);
        _merge = new TimeOrderedMerge(_cpus.Length);
        _initialNames = ProcThreadNames.Read();
        Description = $"tracefs {instance.InstancePath} (clock {clock.Name}, {instance.EnabledEvents.Count} events, {_cpus.Length} CPUs)";
    }

    /// <summary>Creates the instance, enables the events and starts tracing.</summary>
    /// <param name="time">The clock of a read's wait (the trace's own clock is the kernel's, see <see cref="NowRealtime"/>).</param>
    public static TracefsEventSource Start(TracefsOptions options, TimeProvider? time = null)
    {
        options.Validate();
        var clock = TraceClockChoice.Parse(options.Clock);
        var instance = TracefsInstance.Create(options, clock);
        try
        {
            var source = new TracefsEventSource(options, instance, clock, time);
            instance.TracingOn(true);
            return source;
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    public TracefsInstance Instance => _instance;
    public RingBufferPageLayout Layout { get; }
    public FtraceDecoderTable Decoders { get; }

    /// <summary>realtime − instance clock, ns, added to every kernel timestamp.</summary>
    public long RealtimeOffsetNs { get; }

    /// <summary>Every event at or before this realtime ns has been delivered or is ready (long.MinValue before the first poll).</summary>
    public override long Watermark => _draining ? long.MaxValue : _watermark;

    public long PagesRead => _cpus.Sum(c => c.PagesRead);
    public long BytesRead => _cpus.Sum(c => c.DataBytes);
    public long EventsDelivered { get; private set; }

    public override string Description { get; }
    public override int CpuCount => _cpus.Length;
    public override IReadOnlyDictionary<int, string> InitialThreadNames => _initialNames;

    public override TraceEvent Current => _cpus[_current].Current;

    /// <summary>Realtime ns now, on the trace's time scale.</summary>
    public long NowRealtime() => _clock.Now() + RealtimeOffsetNs;

    /// <summary>Writes a marker (an ftrace:print event) into the instance; returns the realtime ns just before the write.</summary>
    public long Mark(string text)
    {
        long now = NowRealtime();
        _instance.Mark(text);
        return now;
    }

    public TracefsKernelStats ReadKernelStats() => _instance.ReadStats();

    /// <summary>Events the kernel counted as lost (overwritten/dropped) beyond those page headers gave a count for.</summary>
    public long KernelLostUncounted { get; private set; }

    /// <summary>
    /// A full page has no room for the missed count: the header only says "events were lost". The kernel's
    /// per-CPU counters know how many: whatever they report beyond what the pages counted is added to the
    /// diagnostics here (called at the end, and by the agent's health loop).
    /// </summary>
    public void ReconcileKernelLosses()
    {
        long kernel = _instance.ReadStats().Lost;
        long uncounted = kernel - Diagnostics.LostEvents;
        if (uncounted > 0)
        {
            Diagnostics.AddLostEvents(uncounted);
            KernelLostUncounted += uncounted;
        }
    }

    /// <summary>Releases the next event if one is below the watermark, after polling the CPUs that have none waiting.</summary>
    protected override LiveReadResult Poll()
    {
        if (_ended)
            return LiveReadResult.End;
        if (_current >= 0)
        {
            Advance(_current);
            _current = -1;
        }
        while (true)
        {
            if (StopRequested && !_draining)
                BeginDrain();
            if (_merge.TryTake(_draining ? long.MaxValue : _watermark, out _))
            {
                _current = _merge.Current;
                _inHeap[_current] = false;
                EventsDelivered++;
                return LiveReadResult.Event;
            }
            if (_draining && _merge.Waiting == 0)
            {
                _ended = true;
                ReconcileKernelLosses();
                return LiveReadResult.End;
            }
            // Either no event is known or the first one may still be overtaken: poll the empty CPUs.
            if (PollEmptyCpus())
                continue;
            return LiveReadResult.Idle;
        }
    }

    /// <summary>Moves a CPU to its next event; returns true when it has one.</summary>
    private bool Advance(int cpu)
    {
        long before = _clock.Now() + RealtimeOffsetNs;
        if (_cpus[cpu].MoveNext())
        {
            _merge.Enqueue(cpu, _cpus[cpu].Timestamp);
            _inHeap[cpu] = true;
            return true;
        }
        _emptySince[cpu] = before;
        _watermark = Math.Min(_watermark == long.MinValue ? long.MaxValue : _watermark, before - _slackNs);
        return false;
    }

    /// <summary>Reads every CPU that has no event waiting; recomputes the watermark. True when something changed that may release an event.</summary>
    private bool PollEmptyCpus()
    {
        long old = _watermark;
        bool gotEvent = false;
        long watermark = long.MaxValue;
        for (int cpu = 0; cpu < _cpus.Length; cpu++)
        {
            if (_inHeap[cpu])
                continue;
            if (Advance(cpu))
                gotEvent = true;
            else
                watermark = Math.Min(watermark, _emptySince[cpu] - _slackNs);
        }
        _watermark = watermark;
        return gotEvent || (_watermark > old && _merge.TryPeek(out long first) && first <= _watermark);
    }

    private void BeginDrain()
    {
        _instance.TracingOn(false);
        _draining = true;
        // Everything committed is readable now; pull one event from each CPU that has none in the heap.
        for (int cpu = 0; cpu < _cpus.Length; cpu++)
        {
            if (!_inHeap[cpu])
                Advance(cpu);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        foreach (var p in _pages)
            p.Dispose();
        _instance.Dispose();
    }
}
