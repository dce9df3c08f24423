using Vmtrace.Analysis.Trackers;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// The analysis core: fed a host's events one at a time in time order (<see cref="OnEvent"/>), it keeps a
/// model of threads, pCPUs and VMs and emits closed event-time windows of per-VM metrics
/// (<see cref="TakeClosedWindows"/>). Pure and deterministic: no I/O, no clock, no randomness; the same
/// events give the same windows, whether they come from <c>vmtrace analyze</c> or the Kafka worker.
/// Windows are [k·W, (k+1)·W); one closes when an event (or <see cref="AdvanceWatermark"/>) reaches its
/// end; intervals spanning windows are split at the boundary so totals are kept. Nothing is allocated
/// per event once every thread, VM and exit reason has been seen.
/// The state is kept by trackers, each owning its part and its checkpoint section: identity (threads, VMs,
/// inventory, lifecycle events), scheduler (pCPUs, switches, wake-ups), kvm (guest mode, exits), disk,
/// network and windows; this class keeps the event clock and hands each event to the tracker it concerns.
/// </summary>
public sealed partial class HostAnalysis
{
    private readonly AnalysisOptions _options;
    private readonly EventClock _clock = new();
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private readonly KvmTracker _kvm;
    private readonly DiskTracker _disk;
    private readonly NetworkTracker _network;
    private readonly WindowTracker _windows;
    private readonly EpisodeDetector _episodes = new();
    private readonly WaitCauseTracker _waitCauses;
    private readonly NestedTracker _nested;
    private bool _started;
    private bool _finished;

    /// <summary>
    /// A kvm_entry was handled (or the state was restored): only then can a thread be in guest mode, so only then can a host
    /// event reveal a lost kvm_exit. Spares the traces without kvm events a look at every event's thread.
    /// </summary>
    private bool _guestEntered;

    public HostAnalysis(AnalysisOptions? options = null)
    {
        _options = options ?? new AnalysisOptions();
        _options.Validate();
        _identity = new IdentityTracker(_clock);
        _scheduler = new SchedulerTracker(_clock, Counters, _identity);
        _kvm = new KvmTracker(Counters, _identity, _scheduler, _options.ExitHandled);
        _identity.Connect(_scheduler);
        _scheduler.Connect(_kvm);
        _disk = new DiskTracker(Counters, _identity, _scheduler);
        _network = new NetworkTracker(Counters, _identity, _scheduler);
        _windows = new WindowTracker(_options, _clock, Counters, _identity, _scheduler, _episodes, _disk);
        _waitCauses = new WaitCauseTracker(_identity, _scheduler);
        _nested = new NestedTracker(Counters, _identity, _scheduler, _kvm);
        _kvm.Connect(_nested);
        _windows.Connect(_nested);
        _scheduler.Connect(_waitCauses);
        _kvm.Connect(_waitCauses);
    }

    public AnalysisCounters Counters { get; } = new();

    /// <summary>Latest event time seen.</summary>
    public long Now => _clock.Now;

    /// <summary>Start of the window still open (meaningful once an event was seen).</summary>
    public long OpenWindowStart => _windows.Start;

    /// <summary>Windows closed since the last call, oldest first.</summary>
    public IReadOnlyList<WindowMetrics> TakeClosedWindows() => _windows.TakeClosed();

    /// <summary>
    /// Interference episodes closed since the last call, in the order they closed: computed from the windows as they close
    /// (<see cref="EpisodeDetector"/>); the episodes still open close at <see cref="Flush"/>.
    /// </summary>
    public IReadOnlyList<Episode> TakeClosedEpisodes() => _episodes.TakeClosed();

    /// <summary>Thread names known before the first event (ftrace saved_cmdlines, LTTng statedump).</summary>
    public void AddThreadNames(IReadOnlyDictionary<int, string> names) => _identity.AddThreadNames(names);

    /// <summary>What the agent knows of a VM (name, pid, threads, tap devices). May come before or between events.</summary>
    public void AddInventory(VmInventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var vm = _identity.AddInventory(inventory);
        foreach (var tap in inventory.TapDevices)
            _network.AttachTap(tap, vm);
    }

    /// <summary>Handles one event. Events must come in time order (late ones are handled at the latest time seen).</summary>
    public void OnEvent(in TraceEvent e)
    {
        if (_finished)
            ThrowFinished();
        long t = e.Timestamp;
        if (!_started)
            Start(t);
        if (t < _clock.Now)
        {
            Counters.OutOfOrderEvents++;
            t = _clock.Now;
        }
        else
        {
            if (t >= _clock.WindowEnd)
                _windows.CloseWindowsThrough(t);
            _clock.Now = t;
        }
        Counters.Events++;

        int cpu = _scheduler.ValidCpu(e.Cpu);

        var known = e.Known;
        if (known == KnownEvent.SchedSwitch)
        {
            _scheduler.OnSchedSwitch(e, cpu, t);
            return;
        }
        // The thread the event ran in, once the CPU's model agrees (null when unknown or idle): the kvm
        // handlers take it from here rather than look it up again.
        ThreadInfo? running = null;
        if (e.Tid < 0 && known != KnownEvent.LostEvents)
        {
            Counters.EventsWithoutTid++;
        }
        else if (cpu >= 0 && e.Tid >= 0)
        {
            // A recognised host event in a thread the model has in guest means its kvm_exit was lost.
            // Unrecognised kvm_* events (kvm_wait_lapic_expire), the research's addons_vcpu_enter_guest and the interrupt
            // deliveries do fire between kvm_entry and the VM-enter.
            running = _scheduler.OnThreadEvent(cpu, e.Tid, t, hostEvent: _guestEntered && known is not (KnownEvent.Unknown or KnownEvent.KvmExit
                or KnownEvent.VcpuEnterGuest or KnownEvent.KvmApicAcceptIrq or KnownEvent.KvmInjVirq or KnownEvent.KvmApicIpi or KnownEvent.KvmMsiSetIrq or KnownEvent.KvmSetIrq));
        }

        switch (known)
        {
            case KnownEvent.KvmEntry:
                _guestEntered = true;
                _kvm.OnKvmEntry(e, running, t);
                break;
            case KnownEvent.KvmExit:
                _kvm.OnKvmExit(e, running, t);
                break;
            case KnownEvent.KvmNestedVmenter: _nested.OnNestedVmenter(e, running, t); break;
            case KnownEvent.KvmNestedVmexit: _nested.OnNestedVmexit(e, running, t); break;
            case KnownEvent.KvmNestedVmexitInject: _nested.OnNestedVmexitInject(e, running, t); break;
            case KnownEvent.VcpuEnterGuest:
                _kvm.OnVcpuEnterGuest(e, running);
                _nested.OnVcpuEnterGuest(e, running, t);
                break;
            case KnownEvent.SchedWakeup:
            case KnownEvent.SchedWaking:
            case KnownEvent.SchedWakeupNew: _scheduler.OnWakeup(e, cpu, running, t); break;
            case KnownEvent.SchedMigrateTask: _scheduler.OnMigrate(e, t); break;
            case KnownEvent.SchedStatRuntime: _scheduler.OnStatRuntime(e, t); break;
            case KnownEvent.TaskNewtask: _identity.OnNewTask(e); break;
            case KnownEvent.SchedProcessFork: _identity.OnFork(e); break;
            case KnownEvent.SchedProcessExit: _identity.OnExit(e, t); break;
            case KnownEvent.TaskRename: _identity.OnRename(e); break;
            case KnownEvent.StatedumpProcessState: _identity.OnStatedump(e); break;
            case KnownEvent.QemuThreadPoolSubmit: _disk.OnThreadPoolSubmit(e, t); break;
            case KnownEvent.QemuThreadPoolComplete:
                _disk.OnThreadPoolComplete(e, t);
                _waitCauses.OnQemuDiskCompletion(e);
                break;
            case KnownEvent.QemuBdrvCoIoEm: _disk.OnBdrvCoIoEm(e); break;
            case KnownEvent.QemuVirtioBlkHandleRead:
            case KnownEvent.QemuVirtioBlkHandleWrite:
            case KnownEvent.QemuBlkCoPreadv:
            case KnownEvent.QemuBlkCoPwritev: _disk.OnQemuRequestDirection(e, known); break;
            case KnownEvent.BlockRqIssue: _disk.OnBlockIssue(e, t); break;
            case KnownEvent.BlockRqComplete:
                _disk.OnBlockComplete(e, t);
                _waitCauses.OnBlockComplete(cpu, t);
                break;
            case KnownEvent.NetDevXmit:
                _network.OnNetDevXmit(e, t);
                _waitCauses.OnNetDevXmit(e, cpu);
                break;
            case KnownEvent.NetDevQueue: _waitCauses.OnNetDevQueue(e, cpu, t); break;
            case KnownEvent.NetifReceiveSkb:
            case KnownEvent.NetifRx:
                _network.OnNetifReceive(e, t);
                _waitCauses.OnTapReceive(e, running);
                break;
            case KnownEvent.LostEvents: _scheduler.OnLostEvents(cpu); break;
            case KnownEvent.IrqHandlerEntry: _waitCauses.OnIrqEntry(e, cpu, t); break;
            case KnownEvent.IrqHandlerExit:
            case KnownEvent.TimerInterruptExit: _waitCauses.OnIrqExit(cpu); break;
            case KnownEvent.TimerInterruptEntry: _waitCauses.OnTimerInterruptEntry(cpu, t); break;
            case KnownEvent.SoftirqEntry: _waitCauses.OnSoftirqEntry(e, cpu, t); break;
            case KnownEvent.SoftirqExit: _waitCauses.OnSoftirqExit(cpu); break;
            case KnownEvent.KvmApicAcceptIrq: _waitCauses.OnApicAcceptIrq(e, cpu, running ?? ThreadOfKvmEvent(e)); break;
            case KnownEvent.KvmInjVirq: _waitCauses.OnInjVirq(e, running ?? ThreadOfKvmEvent(e)); break;
            case KnownEvent.KvmApicIpi: _waitCauses.OnApicIpi(cpu); break;
            case KnownEvent.KvmMsiSetIrq:
            case KnownEvent.KvmSetIrq: _waitCauses.OnDeviceInjection(cpu); break;
            default: break;
        }
    }

    /// <summary>Declares that no event older than <paramref name="timestamp"/> will come: closes the windows ending by then.</summary>
    public void AdvanceWatermark(long timestamp)
    {
        if (!_started || _finished || timestamp < _windows.End)
            return;
        _windows.CloseWindowsThrough(timestamp);
        _clock.Now = Math.Max(_clock.Now, timestamp);
    }

    /// <summary>Ends the analysis at <paramref name="endTime"/> (at least the last event's time): closes every window, the last one partial.</summary>
    public void Flush(long endTime)
    {
        if (_finished || !_started)
        {
            _finished = true;
            return;
        }
        endTime = Math.Max(endTime, _clock.Now);
        if (endTime >= _windows.End)
            _windows.CloseWindowsThrough(endTime);
        _clock.Now = endTime;
        if (endTime > _windows.Start)
            _windows.CloseWindow(endTime);
        _episodes.Finish();
        _kvm.CountUnfinishedExits();
        _finished = true;
    }

    /// <summary>
    /// Where the run-queue wait in progress of each vCPU thread started in the kernel's books (tid → time), for threads
    /// waiting now. schedstat adds a wait to run_delay only when it ends: a sample taken during one lacks the part so far.
    /// For comparisons with schedstat.
    /// </summary>
    internal Dictionary<int, long> RunDelayStarts() => _scheduler.RunDelayStarts();

    // The trackers, for tests that check a checkpoint was taken while a tracker had state in flight.
    internal IdentityTracker Identity => _identity;
    internal SchedulerTracker Scheduler => _scheduler;
    internal KvmTracker Kvm => _kvm;
    internal DiskTracker Disk => _disk;
    internal NetworkTracker Network => _network;
    internal WindowTracker Windows => _windows;
    internal EpisodeDetector Episodes => _episodes;

    internal WaitCauseTracker WaitCauses => _waitCauses;

    internal NestedTracker Nested => _nested;

    /// <summary>The thread of a kvm event when the CPU's model had none placed (traces without scheduler events).</summary>
    private ThreadInfo? ThreadOfKvmEvent(in TraceEvent e) => e.Tid > 0 && _identity.TryGetThread(e.Tid, out var t) ? t : null;

    private void Start(long t)
    {
        _started = true;
        _windows.Open(t);
        _clock.Now = t;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowFinished() => throw new InvalidOperationException("the analysis was flushed; it takes no more events");
}
