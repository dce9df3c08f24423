using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// Who runs where: sched_switch, wake-ups, migrations, and switches inferred when an event's tid
/// contradicts the CPU's current thread (lost events, tracepoints that never fire in some contexts).
/// </summary>
public sealed partial class HostAnalysis
{
    /// <summary>Linux task state bits in sched_switch's prev_state; 0 = runnable. Higher bits flag preemption.</summary>
    private const long TaskStateMask = 0xFF;

    private bool _schedulerSeen;

    /// <summary>The trace records sched_waking: a wake-up's own migration then comes after it, never before.</summary>
    private bool _wakingSeen;

    private void OnSchedSwitch(in TraceEvent e, long now)
    {
        _schedulerSeen = true;
        int cpu = ValidCpu(e.Cpu);
        int prevTid = (int)e.Get(FieldRole.PrevTid, e.Tid);
        int nextTid = (int)e.Get(FieldRole.NextTid, -1);
        if (cpu < 0 || nextTid < 0)
            return;
        if (prevTid >= 0)
        {
            EnsureOnCpu(cpu, prevTid, now);
            // EnsureOnCpu made prevTid the CPU's current thread: usually no lookup needed.
            if (prevTid != 0)
            {
                var current = _cpus[cpu].Current;
                Rename(current is not null && current.Tid == prevTid ? current : Thread(prevTid), e.GetText(FieldRole.PrevComm));
            }
        }
        bool runnable = (e.Get(FieldRole.PrevState, 1) & TaskStateMask) == 0;
        var next = nextTid == 0 ? null : Thread(nextTid);
        if (next is not null)
            Rename(next, e.GetText(FieldRole.NextComm));
        long at = KernelSwitchTime(_cpus[cpu].Current, now);
        Switch(cpu, runnable ? RunState.Preempted : RunState.Blocked, next, now, at, at, observed: true);
    }

    /// <summary>A scheduler clock older than this at a switch is not the skipped-update effect (a tick updates it): the switch time stands.</summary>
    private const long MaxClockLagNs = 10_000_000;

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Rename(ThreadInfo t, ReadOnlySpan<byte> comm)
    {
        if (t.SetComm(comm))
            Reclassify(t);
    }

    /// <summary>Makes the model agree that <paramref name="tid"/> is on <paramref name="cpu"/>; infers a switch when it does not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureOnCpu(int cpu, int tid, long now)
    {
        var c = _cpus[cpu];
        if (c.Known && (tid == 0 ? c.Current is null : c.Current is not null && c.Current.Tid == tid))
            return;
        InferSwitch(c, cpu, tid, now);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void InferSwitch(CpuInfo c, int cpu, int tid, long now)
    {
        var next = tid == 0 ? null : Thread(tid);
        if (!c.Known && c.Current == next)
        {
            c.Known = true;
            return;
        }
        if (c.Known || c.Current is not null)
            Counters.InferredSwitches++;
        // A thread woken for this CPU while it sat idle most likely ran right away: the switch from
        // idle is the one tracepoint that never fires on some machines, so start it at the wake-up.
        long at = now;
        if (next is not null && c.Known && c.Current is null && next.State == RunState.WaitingAfterWakeup
            && next.WakeCpu == cpu && next.WakeTime >= c.SwitchTime)
            at = Math.Max(next.WakeTime, next.Since);
        Switch(cpu, RunState.Unknown, next, now, at, now, observed: false);
    }

    /// <summary>
    /// Puts <paramref name="next"/> (null = idle) on <paramref name="cpu"/> at <paramref name="now"/>: the previous
    /// occupant leaves in state <paramref name="prevState"/> at <paramref name="switchAt"/> ≤ now (the kernel's switch
    /// time, see <see cref="KernelSwitchTime"/>); next's run starts at <paramref name="nextStart"/> ≤ now (earlier when
    /// inferred). <paramref name="observed"/>: a sched_switch event, not an inferred switch.
    /// </summary>
    private void Switch(int cpu, RunState prevState, ThreadInfo? next, long now, long nextStart, long switchAt, bool observed)
    {
        var c = _cpus[cpu];
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
            if (next.State == RunState.Preempted)
                LeavePreemptedList(next, switchAt);
            else if (next.State == RunState.Running && next.Cpu >= 0 && next.Cpu != cpu)
            {
                // Believed running elsewhere: that CPU's switch away from it was lost, so what it did
                // since its last event there is unknown (and if it was in guest, its kvm_exit was lost too).
                var other = _cpus[next.Cpu];
                AttributeInterference(other, now);
                other.Current = null;
                other.Known = false;
                if (next.InGuest)
                    LoseExit(next, now);
                next.Since = Math.Max(next.Since, nextStart);
                next.State = RunState.Unknown;
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
    private void AttributeInterference(CpuInfo c, long now)
    {
        if (c.Preempted.Count > 0 && now > c.AttributedUntil)
            AttributeInterferenceSlow(c, now);
        if (now > c.AttributedUntil)
            c.AttributedUntil = now;
    }

    private void AttributeInterferenceSlow(CpuInfo c, long now)
    {
        int culprit = c.Current?.CulpritId ?? (c.Known ? IdleCulprit : UnknownCulprit);
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

    private void OnWakeup(in TraceEvent e, long now)
    {
        if (e.Known == KnownEvent.SchedWaking)
            _wakingSeen = true;
        int tid = (int)e.Get(FieldRole.Tid, -1);
        if (tid <= 0)
            return;
        var t = Thread(tid);
        int target = (int)e.Get(FieldRole.TargetCpu, -1);
        switch (t.State)
        {
            case RunState.Blocked:
            case RunState.BlockedQueued:
            case RunState.Unknown:
                Charge(t, now);
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
    private void OnStatRuntime(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        long runtime = e.Get(FieldRole.Runtime, -1);
        if (tid <= 0 || runtime < 0)
            return;
        var t = Thread(tid);
        Rename(t, e.GetText(FieldRole.Comm));
        // Also when another CPU's wake-up charged it (the waker holds this thread's run queue): it is still this run's time.
        if (t.State == RunState.Running)
            t.StintRuntimeNs += runtime;
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

    private void OnMigrate(in TraceEvent e, long now)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        int dest = ValidCpu((int)e.Get(FieldRole.DestCpu, -1));
        if (tid <= 0 || dest < 0 || !TryGetThread(tid, out var t))
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
    internal Dictionary<int, long> RunDelayStarts()
    {
        var starts = new Dictionary<int, long>();
        foreach (var t in _vmThreads)
        {
            if (t.Vcpu is not null && t.RunDelaySince != long.MinValue
                && t.State is RunState.Preempted or RunState.WaitingAfterWakeup or RunState.BlockedQueued)
                starts[t.Tid] = t.RunDelaySince;
        }
        return starts;
    }

    private void OnLostEvents(int cpu)
    {
        Counters.LossReports++;
        if (cpu >= 0)
            _cpus[cpu].Known = false;
    }

    /// <summary>
    /// Charges a thread's time since its last charge to the state it was in, then moves its clock to
    /// <paramref name="until"/>. Only VM threads have accumulators; others just advance.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Charge(ThreadInfo t, long until)
    {
        long d = until - t.Since;
        if (d <= 0)
            return;
        t.Since = until;
        var vm = t.Vm;
        if (vm is null)
            return;
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
}
