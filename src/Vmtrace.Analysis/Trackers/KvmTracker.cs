using System.Runtime.CompilerServices;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Guest mode and VM exits: kvm_entry / kvm_exit (ftrace and LTTng names). Keeps per thread whether it is in
/// guest mode and its exit waiting for the next entry, and per vCPU the exit latencies by reason. Each guest run's time
/// is also split by the guest mode at its entry (guest RIP) and by the guest address space (CR3 of the research's
/// addons_vcpu_enter_guest), charged when the run ends or its window closes (<see cref="AttributeGuestRun(ThreadInfo)"/>).
/// </summary>
internal sealed class KvmTracker
{
    /// <summary>No RIP or CR3 field: 0x8000000000000000 is no canonical address, so no real value is taken for it.</summary>
    private const long NoValue = long.MinValue;

    /// <summary>CR3's low 12 bits hold the PCID (or cache flags) and bit 63 the no-flush flag: none names the address space.</summary>
    private const long Cr3SpaceMask = 0x7FFF_FFFF_FFFF_F000;

    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private readonly Action<HandledExit>? _exitHandled;
    private WaitCauseTracker _waitCauses = null!;
    private NestedTracker _nested = null!;
    private readonly FieldSlotsCache<KvmFields> _entryFields = new(KvmFields.None, KvmFields.Of);
    private readonly FieldSlotsCache<KvmFields> _exitFields = new(KvmFields.None, KvmFields.Of);

    public KvmTracker(AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler, Action<HandledExit>? exitHandled = null)
    {
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
        _exitHandled = exitHandled;
    }

    /// <summary>A vCPU's entry ends its wait: the wait-cause tracker charges it.</summary>
    public void Connect(WaitCauseTracker waitCauses) => _waitCauses = waitCauses;

    /// <summary>The L1 vCPU threads that ran an L2 (a nested state) have their entries and exits passed on, after this tracker's.</summary>
    public void Connect(NestedTracker nested) => _nested = nested;

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
    private ThreadInfo? VcpuThreadCharged(in TraceEvent e, ThreadInfo? running, KvmFields f, long now)
    {
        var t = ThreadOf(e, running);
        if (t is null)
        {
            _counters.KvmEventsWithoutThread++;
            return null;
        }
        _identity.BecomeVcpu(t, (int)FieldSlots.Get(e, f.VcpuId, -1));
        _scheduler.Charge(t, now);
        return t;
    }

    /// <param name="running">The event's thread as the scheduler placed it on its CPU, or null (see <see cref="ThreadOf"/>).</param>
    public void OnKvmEntry(in TraceEvent e, ThreadInfo? running, long now)
    {
        var f = _entryFields.Of(e.Type);
        var t = VcpuThreadCharged(e, running, f, now);
        if (t is null)
            return;
        // Made a vCPU just above: read once, the stores below would have it read again.
        var vcpu = t.Vcpu!;
        // A run that ended without its exit (switched out in guest): its time up to there.
        AttributeGuestRun(t, vcpu);
        _waitCauses.OnKvmEntry(t, vcpu, now);
        if (t.PendingExitTime >= 0)
        {
            if (vcpu.Window.Exit(t.PendingExitReason) is { } exit)
            {
                long latency = now - t.PendingExitTime;
                exit.Add(latency);
                if (_exitHandled is { } exitHandled)
                    ReportHandledExit(exitHandled, t, vcpu, latency);
            }
            t.PendingExitTime = -1;
        }
        t.InGuest = true;
        t.GuestSinceEntryNs = 0;
        // The guest resumes at kvm_entry's rip; without one (LTTng's kvm_x86_entry) where its last exit left it.
        long rip = FieldSlots.Get(e, f.GuestRip, NoValue);
        var mode = rip != NoValue ? ModeOf(rip) : t.RipMode;
        t.RipMode = mode;
        t.RunMode = mode;
        if (t.Nested is { } nested)
            _nested.OnKvmEntry(t, nested);
    }

    /// <summary>Out of line: the struct it passes holds a reference, which every entry would otherwise zero in its prologue.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportHandledExit(Action<HandledExit> exitHandled, ThreadInfo t, VcpuInfo vcpu, long latency) =>
        exitHandled(new HandledExit(vcpu.Vm.Name, vcpu.VcpuId, t.Tid, t.PendingExitReason, vcpu.Window.Isa, latency));

    /// <summary>x86-64 canonical addresses: the upper half (sign bit set) is the kernel's, the lower half user space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static GuestMode ModeOf(long rip) => rip < 0 ? GuestMode.Kernel : GuestMode.User;

    /// <summary>
    /// Charges the guest time of <paramref name="t"/>'s run not yet split (charged since its entry, or since the last window
    /// close) to the run's guest mode and guest address space, and zeroes it. Called where a run's time stops growing in a
    /// window: its exit, the next entry (a run ended without exit), a window close.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AttributeGuestRun(ThreadInfo t)
    {
        if (t.Vcpu is { } vcpu)
            AttributeGuestRun(t, vcpu);
        else if (t.GuestSinceEntryNs > 0)
            t.GuestSinceEntryNs = 0;
    }

    /// <summary><see cref="AttributeGuestRun(ThreadInfo)"/> of a thread whose vCPU the caller holds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AttributeGuestRun(ThreadInfo t, VcpuInfo vcpu)
    {
        long ns = t.GuestSinceEntryNs;
        if (ns <= 0)
            return;
        t.GuestSinceEntryNs = 0;
        AttributeGuestNs(t, vcpu, ns);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AttributeGuestNs(ThreadInfo t, VcpuInfo vcpu, long ns)
    {
        vcpu.Window.GuestModeNs[(int)t.RunMode] += ns;
        if (t.HasGuestCr3)
            vcpu.Vm.Window.AddGuestSpace(t.GuestCr3, ns);
        else
            vcpu.Vm.Window.GuestSpaceUnknownNs += ns;
    }

    /// <summary>
    /// addons_vcpu_enter_guest (the research's tracepoint on the VM-entry path): the guest CR3 its run is entered with.
    /// It applies to the thread's run in progress or the next one, until the run's exit.
    /// </summary>
    public void OnVcpuEnterGuest(in TraceEvent e, ThreadInfo? running)
    {
        long cr3 = e.Get(FieldRole.Cr3, NoValue);
        if (cr3 == NoValue)
            return;
        var t = ThreadOf(e, running);
        if (t is null)
        {
            _counters.KvmEventsWithoutThread++;
            return;
        }
        // Out of guest, a run that ended without its exit still has time to charge: to the space it ran in.
        if (!t.InGuest)
            AttributeGuestRun(t);
        t.GuestCr3 = cr3 & Cr3SpaceMask;
        t.HasGuestCr3 = true;
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
        var f = _exitFields.Of(e.Type);
        var t = VcpuThreadCharged(e, running, f, now);
        if (t is null)
            return;
        // Made a vCPU just above: read once, the stores below would have it read again.
        var vcpu = t.Vcpu!;
        var window = vcpu.Window;
        long rip = FieldSlots.Get(e, f.GuestRip, NoValue);
        var exitMode = rip != NoValue ? ModeOf(rip) : GuestMode.Unknown;
        // The run's time (or what is left of a run that ended without its exit) to the space it ran in, before that is cleared.
        AttributeGuestRun(t, vcpu);
        if (t.InGuest && t.RunMode != GuestMode.Unknown && exitMode != GuestMode.Unknown)
        {
            window.GuestModeRuns++;
            window.GuestCrossedRuns += exitMode != t.RunMode ? 1 : 0;
        }
        if (exitMode != GuestMode.Unknown)
            t.RipMode = exitMode;
        t.HasGuestCr3 = false;
        t.InGuest = false;
        if (t.PendingExitTime >= 0)
            _counters.UnfinishedExits++;
        t.PendingExitTime = now;
        t.PendingExitReason = (int)FieldSlots.Get(e, f.ExitReason, -1);
        if (FieldSlots.Get(e, f.Isa, 0) is var isa and ((long)ExitIsa.Vmx or (long)ExitIsa.Svm))
            window.Isa = (ExitIsa)isa;
        if (t.Nested is { } nested)
            _nested.OnKvmExit(t, nested);
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
        foreach (var t in refs.Threads)
        {
            w.Byte((byte)t.RunMode);
            w.Byte((byte)t.RipMode);
            w.Bool(t.HasGuestCr3);
            w.Int64(t.GuestCr3);
        }
        foreach (var vm in _identity.Vms)
        {
            vm.Window.WriteGuestSpacesTo(w);
            foreach (var v in vm.Vcpus)
                v.Window.WriteGuestModesTo(w);
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
        foreach (var t in threads)
        {
            t.RunMode = (GuestMode)r.Enum("guest mode", (byte)GuestMode.User);
            t.RipMode = (GuestMode)r.Enum("guest mode", (byte)GuestMode.User);
            t.HasGuestCr3 = r.Bool();
            t.GuestCr3 = r.Int64();
        }
        foreach (var vm in _identity.Vms)
        {
            vm.Window.ReadGuestSpacesFrom(r);
            foreach (var v in vm.Vcpus)
                v.Window.ReadGuestModesFrom(r);
        }
    }
}
