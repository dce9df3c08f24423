using System.Runtime.CompilerServices;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Who runs where: the pCPUs (current thread, vCPU threads preempted from each), sched_switch, wake-ups,
/// migrations, run time reports, and switches inferred when an event's tid contradicts the CPU's current thread
/// (lost events, tracepoints that never fire in some contexts). Charges each VM thread's time to the state it
/// was in, and the waiting of preempted vCPUs to whoever ran instead (interference).
/// </summary>
internal sealed class SchedulerTracker
{
    private readonly EventClock _clock;
    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private KvmTracker _kvm = null!;
    private WaitCauseTracker _waitCauses = null!;
    private CpuInfo[] _cpus = new CpuInfo[8];
    private int _maxCpu = -1;

    public SchedulerTracker(EventClock clock, AnalysisCounters counters, IdentityTracker identity)
    {
        _clock = clock;
        _counters = counters;
        _identity = identity;
    }

    /// <summary>A thread that shows host activity while the model has it in guest lost its kvm_exit: the kvm tracker takes its guest time back.</summary>
    public void Connect(KvmTracker kvm) => _kvm = kvm;

    /// <summary>Wake-ups and the end of vCPU threads' sleeps go to the wait-cause tracker.</summary>
    public void Connect(WaitCauseTracker waitCauses) => _waitCauses = waitCauses;

    /// <summary>The trace has sched_switch events.</summary>
    public bool SchedulerSeen => _schedulerSeen;

    /// <summary>Time of the last switch (recorded or inferred) on a CPU the table has.</summary>
    public long SwitchTimeOf(int cpu) => (uint)cpu <= (uint)_maxCpu ? _cpus[cpu].SwitchTime : long.MinValue;

    /// <summary>Highest CPU number seen (-1 before any).</summary>
    public int MaxCpu => _maxCpu;

    /// <summary>vCPU threads waiting in the CPUs' preempted lists (for tests).</summary>
    internal int PreemptedCount
    {
        get
        {
            int n = 0;
            for (int i = 0; i <= _maxCpu; i++)
                n += _cpus[i].Preempted.Count;
            return n;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowCpus(int cpu)
    {
        if (cpu < 0 || cpu >= 65536)
            return;
        if (cpu >= _cpus.Length)
            Array.Resize(ref _cpus, Math.Max(cpu + 1, _cpus.Length * 2));
        for (int i = _maxCpu + 1; i <= cpu; i++)
            _cpus[i] = new CpuInfo { SwitchTime = _clock.Now, AttributedUntil = _clock.Now };
        _maxCpu = cpu;
    }

    /// <summary>The CPU number when usable (grows the CPU table on first sight), else -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ValidCpu(int cpu)
    {
        // Every event asks about a CPU already seen: one unsigned compare. Events of no CPU (qemu's log) need no call
        // either: a negative CPU grows nothing and comes back as it is.
        if ((uint)cpu < (uint)(_maxCpu + 1))
            return cpu;
        return cpu < 0 ? cpu : ValidCpuSlow(cpu);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ValidCpuSlow(int cpu)
    {
        if (cpu > _maxCpu)
            GrowCpus(cpu);
        return cpu <= _maxCpu ? cpu : -1;
    }


    /// <summary>
    /// The thread the model has on that CPU (from sched_switch), for events that carry no tid; null while idle.
    /// <paramref name="known"/> is false when nothing says who runs there (no sched_switch yet, or lost events since).
    /// </summary>
    public ThreadInfo? CurrentThreadOn(int cpu, out bool known)
    {
        cpu = ValidCpu(cpu);
        known = cpu >= 0 && _cpus[cpu].Known;
        return cpu >= 0 ? _cpus[cpu].Current : null;
    }

    /// <summary>Charges the preempted vCPUs' waiting on every CPU up to <paramref name="end"/> (a window closes there).</summary>
    public void AttributeAll(long end)
    {
        for (int i = 0; i <= _maxCpu; i++)
            AttributeInterference(_cpus[i], end);
    }

    /// <summary>After a time jump to <paramref name="t"/>: every interval open restarts there, none spans the gap.</summary>
    public void RestartAfterGap(long t)
    {
        foreach (var thread in _identity.Threads)
        {
            thread.Since = Math.Max(thread.Since, t);
            thread.StateStart = Math.Max(thread.StateStart, t);
            if (thread.WakeTime >= 0)
                thread.WakeTime = Math.Max(thread.WakeTime, t);
            if (thread.PendingExitTime >= 0)
                thread.PendingExitTime = Math.Max(thread.PendingExitTime, t);
            if (thread.KernelRunStart != long.MinValue)
                thread.KernelRunStart = Math.Max(thread.KernelRunStart, t);
            if (thread.RunDelaySince != long.MinValue)
                thread.RunDelaySince = Math.Max(thread.RunDelaySince, t);
        }
        for (int i = 0; i <= _maxCpu; i++)
        {
            _cpus[i].SwitchTime = Math.Max(_cpus[i].SwitchTime, t);
            _cpus[i].AttributedUntil = Math.Max(_cpus[i].AttributedUntil, t);
        }
    }

    /// <summary>Linux task state bits in sched_switch's prev_state; 0 = runnable. Higher bits flag preemption.</summary>
    private const long TaskStateMask = 0xFF;

    private bool _schedulerSeen;

    private readonly FieldSlotsCache<SwitchFields> _switchFields = new(SwitchFields.None, SwitchFields.Of);

    /// <summary>The trace records sched_waking: a wake-up's own migration then comes after it, never before.</summary>
    private bool _wakingSeen;

    /// <param name="cpu">The event's CPU as <see cref="ValidCpu"/> gave it (-1 when unusable).</param>
    public void OnSchedSwitch(in TraceEvent e, int cpu, long now)
    {
        _schedulerSeen = true;
        var f = _switchFields.Of(e.Type);
        int prevTid = (int)FieldSlots.Get(e, f.PrevTid, e.Tid);
        int nextTid = (int)FieldSlots.Get(e, f.NextTid, -1);
        if (cpu < 0 || nextTid < 0)
            return;
        // The CPU's object stays the same through the switch: read once.
        var c = _cpus[cpu];
        if (prevTid >= 0)
        {
            if (!Runs(c, prevTid))
                InferSwitch(c, cpu, prevTid, now);
            // That made prevTid the CPU's current thread: usually no lookup needed.
            if (prevTid != 0)
            {
                var current = c.Current;
                _identity.Rename(current is not null && current.Tid == prevTid ? current : _identity.Thread(prevTid), FieldSlots.Text(e, f.PrevComm));
            }
        }
        bool runnable = (FieldSlots.Get(e, f.PrevState, 1) & TaskStateMask) == 0;
        var next = nextTid == 0 ? null : _identity.Thread(nextTid);
        if (next is not null)
            _identity.Rename(next, FieldSlots.Text(e, f.NextComm));
        long at = KernelSwitchTime(c.Current, now);
        Switch(c, cpu, runnable ? RunState.Preempted : RunState.Blocked, next, now, at, at, observed: true);
    }

    /// <summary>A scheduler clock older than this at a switch is not the skipped-update effect (a tick updates it): the switch time stands.</summary>
    private const long MaxClockLagNs = 10_000_000;

    /// <summary>How far a run-time report's event may trail the clock update it reports (the update comes first, at the enqueue of a wake-up, the tick or the switch).</summary>
    private const long RuntimeReportLagNs = 20_000;

    /// <summary>
    /// When the switch away from <paramref name="prev"/> happened in the kernel's books. After a wake-up
    /// preemption the scheduler skips its clock update at the switch (rq_clock_skip_update): the leaving
    /// thread's run time stops, and the next thread's run and the leaving thread's run-queue wait
    /// (schedstat, the steal time KVM reports to the guest) start, at the clock of the wake-up, before the
    /// sched_switch event. The run time the kernel charged the leaving thread since its own switch-in
    /// (sched_stat_runtime) says where that clock stood. Without those events, or for RT threads (no
    /// sched_stat_runtime), the event's time stands.
    /// </summary>
    private long KernelSwitchTime(ThreadInfo? prev, long now)
    {
        if (prev is null || !prev.ReportsRuntime || prev.KernelRunStart == long.MinValue)
            return now;
        long start = prev.KernelRunStart;
        return Math.Clamp(start + prev.StintRuntimeNs, Math.Min(now, Math.Max(start, now - MaxClockLagNs)), now);
    }

    /// <summary>Whether the model has <paramref name="tid"/> (0 = idle) on that CPU; when not, <see cref="InferSwitch"/> makes it agree.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Runs(CpuInfo c, int tid) => c.RunningTid == tid;

    /// <summary>
    /// An event of thread <paramref name="tid"/> on a valid <paramref name="cpu"/>: makes the model agree that it runs
    /// there (inferring a switch when it does not); for a <paramref name="hostEvent"/> (a recognised event other than
    /// kvm_exit), a thread the model has in guest there lost its kvm_exit. Returns the CPU's thread after that: the
    /// event's thread, the one the thread table holds for that tid (null for tid 0, idle). One read of the CPU for all of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ThreadInfo? OnThreadEvent(int cpu, int tid, long now, bool hostEvent)
    {
        var c = _cpus[cpu];
        if (!Runs(c, tid))
            InferSwitch(c, cpu, tid, now);
        var current = c.Current;
        if (hostEvent && current is { InGuest: true })
            _kvm.LoseExit(current, now);
        return current;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void InferSwitch(CpuInfo c, int cpu, int tid, long now)
    {
        var next = tid == 0 ? null : _identity.Thread(tid);
        if (!c.Known && c.Current == next)
        {
            c.Known = true;
            return;
        }
        if (c.Known || c.Current is not null)
            _counters.InferredSwitches++;
        // A thread woken for this CPU while it sat idle most likely ran right away: the switch from
        // idle is the one tracepoint that never fires on some machines, so start it at the wake-up.
        long at = now;
        if (next is not null && c.Known && c.Current is null && next.State == RunState.WaitingAfterWakeup
            && next.WakeCpu == cpu && next.WakeTime >= c.SwitchTime)
            at = Math.Max(next.WakeTime, next.Since);
        Switch(c, cpu, RunState.Unknown, next, now, at, now, observed: false);
    }

    /// <summary>
    /// Puts <paramref name="next"/> (null = idle) on <paramref name="cpu"/> (its object <paramref name="c"/>) at <paramref name="now"/>: the previous
    /// occupant leaves in state <paramref name="prevState"/> at <paramref name="switchAt"/> ≤ now (the kernel's switch
    /// time, see <see cref="KernelSwitchTime"/>); next's run starts at <paramref name="nextStart"/> ≤ now (earlier when
    /// inferred). <paramref name="observed"/>: a sched_switch event, not an inferred switch.
    /// </summary>
    private void Switch(CpuInfo c, int cpu, RunState prevState, ThreadInfo? next, long now, long nextStart, long switchAt, bool observed)
    {
        // The vCPUs already waiting on this CPU: to the leaving thread until the switch, to the next one after.
        AttributeInterference(c, switchAt);
        var prev = c.Current;
        if (prev is not null && prev != next)
        {
            Charge(prev, switchAt);
            prev.State = prevState;
            prev.StateStart = prev.Since;
            prev.RunDelaySince = prevState == RunState.Preempted ? switchAt : long.MinValue;
            prev.InGuest = false;
            prev.KernelRunStart = long.MinValue;
            if (prevState == RunState.Preempted)
            {
                prev.Cpu = cpu;
                if (prev.Vcpu is not null)
                    c.Preempted.Add(prev);
            }
            else
            {
                prev.Cpu = -1;
            }
        }
        if (next is not null && (prev != next || !c.Known))
        {
            if (next.State is RunState.Blocked or RunState.BlockedQueued && next.Vcpu is not null)
            {
                // Back on a pCPU from a sleep whose wake-up no event showed.
                _waitCauses.OnRunWithoutWakeup(next, Math.Max(nextStart, next.Since) - next.StateStart);
            }
            else if (next.State == RunState.Preempted)
            {
                LeavePreemptedList(next, switchAt);
                // The preempted interval ends where its preempted time stops being charged (just below).
                if (next.Vcpu is not null && next.Vm is { } vm)
                    vm.Window.PreemptedIntervals = vm.Window.PreemptedIntervals.Add(Math.Max(nextStart, next.Since) - next.StateStart);
            }
            else if (next.State == RunState.Running && next.Cpu >= 0 && next.Cpu != cpu)
            {
                LoseSwitchAway(next, now, nextStart);
            }
            Charge(next, Math.Max(nextStart, next.Since));
            next.State = RunState.Running;
            next.RunDelaySince = long.MinValue;
            next.Cpu = cpu;
            next.KernelRunStart = observed ? nextStart : long.MinValue;
            next.StintRuntimeNs = 0;
            next.StintSwitchOnCpuNs = 0;
            Charge(next, now);
        }
        c.Current = next;
        c.Known = true;
        c.SwitchTime = now;
    }

    /// <summary>
    /// <paramref name="t"/>, believed running on another CPU, runs here: that CPU's switch away from it was lost, so what it
    /// did since its last event there is unknown (and if it was in guest, its kvm_exit was lost too). Rare: kept out of
    /// <see cref="Switch"/>'s code.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LoseSwitchAway(ThreadInfo t, long now, long nextStart)
    {
        var other = _cpus[t.Cpu];
        AttributeInterference(other, now);
        other.Current = null;
        other.Known = false;
        if (t.InGuest)
            _kvm.LoseExit(t, now);
        t.Since = Math.Max(t.Since, nextStart);
        t.State = RunState.Unknown;
    }

    private void LeavePreemptedList(ThreadInfo t, long now)
    {
        if (t.Cpu >= 0 && t.Cpu <= _maxCpu)
        {
            var from = _cpus[t.Cpu];
            AttributeInterference(from, now);
            // By reference, in place: List.Remove goes through EqualityComparer, slow on this hot path.
            var preempted = from.Preempted;
            for (int i = 0; i < preempted.Count; i++)
            {
                if (ReferenceEquals(preempted[i], t))
                {
                    preempted.RemoveAt(i);
                    break;
                }
            }
        }
    }

    /// <summary>Charges the waiting of the vCPUs preempted from this CPU, up to now, to whoever runs on it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AttributeInterference(CpuInfo c, long now)
    {
        if (c.Preempted.Count > 0 && now > c.AttributedUntil)
            AttributeInterferenceSlow(c, now);
        if (now > c.AttributedUntil)
            c.AttributedUntil = now;
    }

    private void AttributeInterferenceSlow(CpuInfo c, long now)
    {
        int culprit = c.Current?.CulpritId ?? (c.Known ? _identity.IdleCulprit : _identity.UnknownCulprit);
        long attributedUntil = c.AttributedUntil;
        foreach (var w in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(c.Preempted))
        {
            var vm = w.Vm;
            if (vm is null)
                continue;
            long start = Math.Max(attributedUntil, w.StateStart);
            if (now <= start)
                continue;
            vm.Window.AddInterference(culprit, now - start);
        }
    }

    /// <param name="cpu">The event's CPU as <see cref="ValidCpu"/> gave it (-1 when unusable).</param>
    /// <param name="waker">The event's thread as <see cref="OnThreadEvent"/> placed it on its CPU (null when idle or unknown).</param>
    public void OnWakeup(in TraceEvent e, int cpu, ThreadInfo? waker, long now)
    {
        if (e.Known == KnownEvent.SchedWaking)
            _wakingSeen = true;
        int tid = (int)e.Get(FieldRole.Tid, -1);
        if (tid <= 0)
            return;
        var t = _identity.Thread(tid);
        int target = (int)e.Get(FieldRole.TargetCpu, -1);
        switch (t.State)
        {
            case RunState.Blocked:
            case RunState.BlockedQueued:
            case RunState.Unknown:
                Charge(t, now);
                if (t.Vm is not null)
                    _waitCauses.OnWoken(t, cpu, e.Tid, waker, now);
                // Queued asleep, the kernel's wait began at the move (kept); else it begins here.
                if (t.State != RunState.BlockedQueued)
                    t.RunDelaySince = now;
                t.State = RunState.WaitingAfterWakeup;
                t.StateStart = now;
                t.WakeTime = now;
                t.WakeCpu = target;
                break;
            case RunState.WaitingAfterWakeup:
                if (target >= 0)
                    t.WakeCpu = target;
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Run time charged to a thread by the scheduler (update_curr), counted in the window of the event: the
    /// same time and the same split between threads as the thread's schedstat, which differs from the time
    /// between switches after a wake-up preemption (see <see cref="KernelSwitchTime"/>). A running thread's
    /// charge lags its switches by at most a tick. A thread's on-CPU time is counted from its switches until its
    /// first report, from its reports after; threads that never report (real-time policies: the kernel has no
    /// such event for them) keep the time between their switches.
    /// </summary>
    public void OnStatRuntime(in TraceEvent e, long now)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        long runtime = e.Get(FieldRole.Runtime, -1);
        if (tid <= 0 || runtime < 0)
            return;
        var t = _identity.Thread(tid);
        _identity.Rename(t, e.GetText(FieldRole.Comm));
        // Also when another CPU's wake-up charged it (the waker holds this thread's run queue): it is still this run's time.
        if (t.State == RunState.Running)
        {
            t.StintRuntimeNs += runtime;
            // The report was made at the kernel's clock of now: the run cannot have started before now minus what
            // it charged. An earlier start came from the switch before (a report lost there, a skipped update
            // mistaken for one) and would carry on down every switch on this CPU.
            if (t.KernelRunStart != long.MinValue && t.KernelRunStart + t.StintRuntimeNs < now - RuntimeReportLagNs)
                t.KernelRunStart = now - t.StintRuntimeNs;
        }
        long counted = runtime;
        if (!t.ReportsRuntime)
        {
            // Its first report covers this run from its start, which its switches have counted so far.
            counted = Math.Max(0, runtime - t.StintSwitchOnCpuNs);
            t.ReportsRuntime = true;
        }
        if (t.Vm is { } vm)
            vm.Window.ThreadsOnCpuNs += counted;
    }

    public void OnMigrate(in TraceEvent e, long now)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        int dest = ValidCpu((int)e.Get(FieldRole.DestCpu, -1));
        if (tid <= 0 || dest < 0 || !_identity.TryGetThread(tid, out var t))
            return;
        if (t.State == RunState.Preempted && t.Cpu != dest)
        {
            LeavePreemptedList(t, now);
            var to = _cpus[dest];
            AttributeInterference(to, now);
            t.Cpu = dest;
            if (t.Vcpu is not null)
                to.Preempted.Add(t);
        }
        else if (t.State == RunState.WaitingAfterWakeup)
        {
            t.WakeCpu = dest;
        }
        else if (t.State == RunState.Blocked && _wakingSeen)
        {
            // Asleep yet moved: the kernel still had it queued (delayed dequeue), and from here until it runs
            // books its sleep as run-queue wait. Measured on 6.18: the kernel's run_delay exceeded the trace's
            // waits by this sleep, to within 1 % (docs/metrics.md).
            Charge(t, now);
            t.State = RunState.BlockedQueued;
            t.RunDelaySince = now;
        }
    }

    /// <summary>
    /// Where the run-queue wait in progress of each vCPU thread started in the kernel's books (tid → time), for threads
    /// waiting now. schedstat adds a wait to run_delay only when it ends: a sample taken during one lacks the part so far.
    /// For comparisons with schedstat.
    /// </summary>
    public Dictionary<int, long> RunDelayStarts()
    {
        var starts = new Dictionary<int, long>();
        foreach (var t in _identity.VmThreads)
        {
            if (t.Vcpu is not null && t.RunDelaySince != long.MinValue
                && t.State is RunState.Preempted or RunState.WaitingAfterWakeup or RunState.BlockedQueued)
                starts[t.Tid] = t.RunDelaySince;
        }
        return starts;
    }

    public void OnLostEvents(int cpu)
    {
        _counters.LossReports++;
        if (cpu >= 0)
            _cpus[cpu].Known = false;
    }

    /// <summary>
    /// Charges a thread's time since its last charge to the state it was in, then moves its clock to
    /// <paramref name="until"/>. Only VM threads have accumulators; others just advance.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Charge(ThreadInfo t, long until)
    {
        long d = until - t.Since;
        if (d <= 0)
            return;
        t.Since = until;
        var vm = t.Vm;
        if (vm is null)
            return;
        if (t.Nested is { } nested)
            NestedTracker.Charge(t, nested, d, _schedulerSeen);
        var vcpu = t.Vcpu;
        switch (t.State)
        {
            case RunState.Running:
                // Without scheduler events (a kvm-only trace) a vCPU thread out of guest mode may be
                // running or sleeping (HLT): that time is left uncounted; its exit latency tells it.
                if (vcpu is not null && !t.InGuest && !_schedulerSeen)
                    break;
                if (!t.ReportsRuntime)
                {
                    vm.Window.ThreadsOnCpuNs += d;
                    t.StintSwitchOnCpuNs += d;
                }
                if (vcpu is not null)
                {
                    if (t.InGuest)
                    {
                        vcpu.Window.GuestNs += d;
                        t.GuestSinceEntryNs += d;
                    }
                    else
                    {
                        vcpu.Window.HostNs += d;
                    }
                }
                else if (t.Role == ThreadRole.Vhost)
                {
                    vm.Window.VhostBusyNs += d;
                }
                break;
            case RunState.Preempted:
                if (vcpu is not null) vcpu.Window.PreemptedNs += d;
                else if (t.Role == ThreadRole.Vhost) vm.Window.VhostWaitNs += d;
                break;
            case RunState.WaitingAfterWakeup:
                if (vcpu is not null) vcpu.Window.WaitNs += d;
                else if (t.Role == ThreadRole.Vhost) vm.Window.VhostWaitNs += d;
                break;
            case RunState.Blocked:
                if (vcpu is not null) vcpu.Window.BlockedNs += d;
                break;
            case RunState.BlockedQueued:
                if (vcpu is not null)
                {
                    vcpu.Window.BlockedNs += d;
                    vcpu.Window.BlockedQueuedNs += d;
                }
                break;
            default:
                break;
        }
    }

    /// <summary>Numbers the threads the CPUs refer to (after the identity tracker's) for a checkpoint.</summary>
    public void CollectThreads(ThreadRefs refs)
    {
        for (int i = 0; i <= _maxCpu; i++)
        {
            if (_cpus[i].Current is { } current)
                refs.Add(current, inTable: false);
            foreach (var p in _cpus[i].Preempted)
                refs.Add(p, inTable: false);
        }
    }

    public void WriteCheckpoint(SectionWriter w, ThreadRefs refs)
    {
        w.Bool(_schedulerSeen);
        w.Bool(_wakingSeen);
        w.Int32(_maxCpu);
        for (int i = 0; i <= _maxCpu; i++)
        {
            var c = _cpus[i];
            w.Int32(refs.Id(c.Current));
            w.Bool(c.Known);
            w.Int64(c.SwitchTime);
            w.Int64(c.AttributedUntil);
            w.Count(c.Preempted.Count);
            foreach (var p in c.Preempted)
                w.Int32(refs.Id(p));
        }
        foreach (var t in refs.Threads)
        {
            w.Byte((byte)t.State);
            w.Int64(t.StateStart);
            w.Int64(t.Since);
            w.Int32(t.Cpu);
            w.Int64(t.WakeTime);
            w.Int32(t.WakeCpu);
            w.Bool(t.ReportsRuntime);
            w.Int64(t.KernelRunStart);
            w.Int64(t.StintRuntimeNs);
            w.Int64(t.StintSwitchOnCpuNs);
            w.Int64(t.RunDelaySince);
        }
        foreach (var vm in _identity.Vms)
            vm.Window.PreemptedIntervals.WriteTo(w);
    }

    public void ReadCheckpoint(SectionReader r, List<ThreadInfo> threads)
    {
        _schedulerSeen = r.Bool();
        _wakingSeen = r.Bool();
        int maxCpu = r.Int32();
        if (maxCpu < -1 || maxCpu >= 65536)
            throw r.Damaged("highest CPU " + maxCpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _cpus = new CpuInfo[Math.Max(8, maxCpu + 1)];
        _maxCpu = maxCpu;
        for (int i = 0; i <= maxCpu; i++)
        {
            var c = new CpuInfo
            {
                Current = ThreadRefs.Read(r, threads, nullable: true),
                Known = r.Bool(),
                SwitchTime = r.Int64(),
                AttributedUntil = r.Int64(),
            };
            int preempted = r.Count(4);
            for (int k = 0; k < preempted; k++)
                c.Preempted.Add(ThreadRefs.Read(r, threads, nullable: false)!);
            _cpus[i] = c;
        }
        foreach (var t in threads)
        {
            t.State = (RunState)r.Enum("run state", (byte)RunState.BlockedQueued);
            t.StateStart = r.Int64();
            t.Since = r.Int64();
            t.Cpu = r.Int32();
            t.WakeTime = r.Int64();
            t.WakeCpu = r.Int32();
            t.ReportsRuntime = r.Bool();
            t.KernelRunStart = r.Int64();
            t.StintRuntimeNs = r.Int64();
            t.StintSwitchOnCpuNs = r.Int64();
            t.RunDelaySince = r.Int64();
            if (t.Cpu > maxCpu)
                throw r.Damaged($"thread {t.Tid} on CPU {t.Cpu}, beyond the highest CPU");
        }
        foreach (var vm in _identity.Vms)
            vm.Window.PreemptedIntervals = DurationSpread.ReadFrom(r);
    }
}
