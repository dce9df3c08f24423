using System.Runtime.CompilerServices;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Guest mode and VM exits: kvm_entry / kvm_exit (ftrace and LTTng names). Keeps per thread whether it is in
/// guest mode and its exit waiting for the next entry, and per vCPU the exit latencies by reason.
/// </summary>
internal sealed class KvmTracker
{
    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private readonly Action<HandledExit>? _exitHandled;
    private WaitCauseTracker _waitCauses = null!;

    public KvmTracker(AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler, Action<HandledExit>? exitHandled = null)
    {
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
        _exitHandled = exitHandled;
    }

    /// <summary>A vCPU's entry ends its wait: the wait-cause tracker charges it.</summary>
    public void Connect(WaitCauseTracker waitCauses) => _waitCauses = waitCauses;

    /// <summary>
    /// The thread an event ran in: <paramref name="running"/> (the CPU's thread once the scheduler placed the event's
    /// tid there) when it has one, else its own tid, else the CPU's current thread (XML stubs, LTTng without a tid context).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ThreadInfo? ThreadOf(in TraceEvent e, ThreadInfo? running)
    {
        if (e.Tid > 0)
            return running ?? _identity.Thread(e.Tid);
        return e.Tid < 0 ? _scheduler.CurrentThreadOn(e.Cpu, out _) : null;
    }

    /// <summary>The kvm event's thread, made a vCPU and charged up to <paramref name="now"/>; null (counted) when the event has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadInfo? VcpuThreadCharged(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = ThreadOf(e, running);
        if (t is null)
        {
            _counters.KvmEventsWithoutThread++;
            return null;
        }
        _identity.BecomeVcpu(t, (int)e.Get(FieldRole.VcpuId, -1));
        _scheduler.Charge(t, now);
        return t;
    }

    /// <param name="running">The event's thread as the scheduler placed it on its CPU, or null (see <see cref="ThreadOf"/>).</param>
    public void OnKvmEntry(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = VcpuThreadCharged(e, running, now);
        if (t is null)
            return;
        _waitCauses.OnKvmEntry(t, now);
        if (t.PendingExitTime >= 0)
        {
            var vcpu = t.Vcpu!;
            if (vcpu.Window.Exit(t.PendingExitReason) is { } exit)
            {
                long latency = now - t.PendingExitTime;
                exit.Add(latency);
                _exitHandled?.Invoke(new HandledExit(vcpu.Vm.Name, vcpu.VcpuId, t.Tid, t.PendingExitReason, vcpu.Window.Isa, latency));
            }
            t.PendingExitTime = -1;
        }
        t.InGuest = true;
        t.GuestSinceEntryNs = 0;
    }

    /// <summary>
    /// The thread shows host activity (or moved CPU) while the model has it in guest: its kvm_exit was lost.
    /// When the guest run really ended is unknown, so the guest time charged since its entry (in the open
    /// window) is taken back and the time since is not counted, like a reference that pairs each entry
    /// with the next exit only.
    /// </summary>
    public void LoseExit(ThreadInfo t, long now)
    {
        _counters.LostExits++;
        if (t.Vcpu is { } vcpu && t.Vm is { } vm)
        {
            vcpu.Window.GuestNs -= t.GuestSinceEntryNs;
            if (!t.ReportsRuntime)
            {
                // Counted from switches (Charge): taken back there too.
                vm.Window.ThreadsOnCpuNs -= t.GuestSinceEntryNs;
                t.StintSwitchOnCpuNs = Math.Max(0, t.StintSwitchOnCpuNs - t.GuestSinceEntryNs);
            }
        }
        t.GuestSinceEntryNs = 0;
        t.InGuest = false;
        t.Since = Math.Max(t.Since, now);
        if (t.Nested is { } nested)
            NestedTracker.LoseExit(nested, _counters);
    }

    /// <param name="running">The event's thread as the scheduler placed it on its CPU, or null (see <see cref="ThreadOf"/>).</param>
    public void OnKvmExit(in TraceEvent e, ThreadInfo? running, long now)
    {
        // LTTng's kvm_x86_exit has no vcpu_id: the thread's vCPU (from its last entry) is used.
        var t = VcpuThreadCharged(e, running, now);
        if (t is null)
            return;
        t.InGuest = false;
        if (t.PendingExitTime >= 0)
            _counters.UnfinishedExits++;
        t.PendingExitTime = now;
        t.PendingExitReason = (int)e.Get(FieldRole.ExitReason, -1);
        if (e.Get(FieldRole.Isa, 0) is var isa and ((long)ExitIsa.Vmx or (long)ExitIsa.Svm))
            t.Vcpu!.Window.Isa = (ExitIsa)isa;
    }

    /// <summary>Threads in guest mode or with an exit waiting for its entry (for tests).</summary>
    internal int ThreadsInGuestOrExiting
    {
        get
        {
            int n = 0;
            foreach (var t in _identity.Threads)
            {
                if (t.InGuest || t.PendingExitTime >= 0)
                    n++;
            }
            return n;
        }
    }

    /// <summary>At the end of the analysis: exits still waiting for their entry are counted.</summary>
    public void CountUnfinishedExits()
    {
        foreach (var t in _identity.Threads)
        {
            if (t.PendingExitTime >= 0)
                _counters.UnfinishedExits++;
        }
    }

    public void WriteCheckpoint(SectionWriter w, ThreadRefs refs)
    {
        foreach (var t in refs.Threads)
        {
            w.Bool(t.InGuest);
            w.Int64(t.GuestSinceEntryNs);
            w.Int64(t.PendingExitTime);
            w.Int32(t.PendingExitReason);
        }
        foreach (var vm in _identity.Vms)
        {
            foreach (var v in vm.Vcpus)
                v.Window.WriteExitsTo(w);
        }
    }

    public void ReadCheckpoint(SectionReader r, List<ThreadInfo> threads)
    {
        foreach (var t in threads)
        {
            t.InGuest = r.Bool();
            t.GuestSinceEntryNs = r.Int64();
            t.PendingExitTime = r.Int64();
            t.PendingExitReason = r.Int32();
        }
        foreach (var vm in _identity.Vms)
        {
            foreach (var v in vm.Vcpus)
                v.Window.ReadExitsFrom(r);
        }
    }
}
