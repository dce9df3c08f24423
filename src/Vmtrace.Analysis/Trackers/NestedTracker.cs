using System.Globalization;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>What an L1 vCPU thread is doing for the L2 vCPU it last entered (docs/metrics.md, "Nested VMs").</summary>
internal enum NestedMode : byte
{
    /// <summary>No nested context: the L1 runs for itself (or halted).</summary>
    None,
    /// <summary>L1 executed VMLAUNCH/VMRESUME (VMRUN): L0 emulates the entry into the L2.</summary>
    Entering,
    /// <summary>Between kvm_entry into the L2 and its next kvm_exit.</summary>
    L2Running,
    /// <summary>The L2 exited to L0; L0 handles it or reflects it to the L1 (kvm_nested_vmexit_inject).</summary>
    L0Root,
    /// <summary>The L1 hypervisor handles a reflected exit of the L2, until its next VMLAUNCH/VMRESUME.</summary>
    L1Root,
}

/// <summary>The nested state of one L1 vCPU thread (<see cref="ThreadInfo.Nested"/>): created at its first nested event.</summary>
internal sealed class NestedThread
{
    public NestedMode Mode;
    /// <summary>The L2 vCPU its time is charged to (null until one is known).</summary>
    public NestedL2Vcpu? Current;
    /// <summary>kvm_nested_vmexit_inject since the L2's exit: the next entry enters the L1.</summary>
    public bool InjectPending;
    /// <summary>Guest-mode ns charged to <see cref="Current"/> in the open window since the last kvm_entry (taken back if its exit was lost).</summary>
    public long GuestSinceEntryNs;
}

/// <summary>An L2 guest of one L1 VM.</summary>
internal sealed class NestedL2
{
    public NestedL2(int index, VmInfo vm, string name, long l1Cr3)
    {
        Index = index;
        Vm = vm;
        Name = name;
        L1Cr3 = l1Cr3;
    }

    /// <summary>The CR3 of the L1 process running it when the research's addons_vcpu_enter_guest named it, else 0.</summary>
    public long L1Cr3 { get; }

    public int Index { get; }
    public VmInfo Vm { get; }
    public string Name { get; }
    public List<NestedL2Vcpu> Vcpus { get; } = [];
}

/// <summary>One vCPU of an L2 guest, with its figures of the open window.</summary>
internal sealed class NestedL2Vcpu
{
    public NestedL2Vcpu(NestedL2 guest, int number, long key)
    {
        Guest = guest;
        Number = number;
        Key = key;
    }

    public NestedL2 Guest { get; }
    public int Number { get; }
    /// <summary>The vmcs12/vmcb address (&gt;= 0) or, when the trace has none, -1 − the tid of the L1 vCPU thread running it.</summary>
    public long Key { get; }
    public int L1Vcpu = -1;
    public long L2RunningNs, L1RootNs, L0RootNs, L1PreemptedNs, BlockedNs, L2Exits, ReflectedExits, L1Exits;

    public bool IsEmpty => L2RunningNs == 0 && L1RootNs == 0 && L0RootNs == 0 && L1PreemptedNs == 0 && BlockedNs == 0
        && L2Exits == 0 && ReflectedExits == 0 && L1Exits == 0;

    public void Clear() => L2RunningNs = L1RootNs = L0RootNs = L1PreemptedNs = BlockedNs = L2Exits = ReflectedExits = L1Exits = 0;

    public void Write(SectionWriter w)
    {
        w.Int32(L1Vcpu);
        foreach (long v in (ReadOnlySpan<long>)[L2RunningNs, L1RootNs, L0RootNs, L1PreemptedNs, BlockedNs, L2Exits, ReflectedExits, L1Exits])
            w.Int64(v);
    }

    public void Read(SectionReader r)
    {
        L1Vcpu = r.Int32();
        L2RunningNs = r.Int64();
        L1RootNs = r.Int64();
        L0RootNs = r.Int64();
        L1PreemptedNs = r.Int64();
        BlockedNs = r.Int64();
        L2Exits = r.Int64();
        ReflectedExits = r.Int64();
        L1Exits = r.Int64();
    }
}

/// <summary>
/// Nested virtualisation seen from L0: which L1 vCPU threads run an L2 guest, and the time of each L2 vCPU by state
/// (L2 running, L1 root, L0 root, L1 preempted, blocked). Driven by kvm_nested_vmenter, kvm_nested_vmexit,
/// kvm_nested_vmexit_inject, the L1's VMLAUNCH/VMRESUME (VMRUN) and HLT exits, and the research's addons_vcpu_enter_guest;
/// the time itself is charged by the scheduler tracker's <see cref="SchedulerTracker.Charge"/> (one test per charge of a
/// thread with no nested context). Nothing runs for kvm_entry/kvm_exit until a nested event was seen.
/// </summary>
internal sealed class NestedTracker
{
    private const int VmxHlt = 12, VmxVmlaunch = 20, VmxVmresume = 24, SvmHlt = 0x78, SvmVmrun = 0x80;

    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private readonly KvmTracker _kvm;
    private readonly List<NestedL2> _guests = [];
    private readonly Dictionary<(int Vm, string Name), NestedL2> _guestsByName = [];
    private readonly Dictionary<(NestedL2 Guest, long Key), NestedL2Vcpu> _vcpusByKey = [];
    /// <summary>Threads with a nested state, in the order they got it.</summary>
    private readonly List<ThreadInfo> _threads = [];
    /// <summary>The L1 CR3 of each thread's last entry into its L1 (addons_vcpu_enter_guest), by tid.</summary>
    private readonly Dictionary<int, long> _l1Cr3 = [];

    public NestedTracker(AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler, KvmTracker kvm)
    {
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
        _kvm = kvm;
    }

    /// <summary>A nested event was seen: kvm_entry and kvm_exit are passed on from now.</summary>
    public bool Active { get; private set; }

    /// <summary>
    /// Charges <paramref name="d"/> ns of <paramref name="t"/>'s time (in the state the scheduler had it) to its current L2 vCPU.
    /// Called from <see cref="SchedulerTracker.Charge"/> for threads with a nested state only.
    /// </summary>
    public static void Charge(ThreadInfo t, NestedThread n, long d, bool schedulerSeen)
    {
        var v = n.Current;
        if (v is null || n.Mode == NestedMode.None)
            return;
        switch (t.State)
        {
            case RunState.Running:
                if (t.InGuest)
                {
                    n.GuestSinceEntryNs += d;
                    if (n.Mode == NestedMode.L2Running)
                        v.L2RunningNs += d;
                    else
                        v.L1RootNs += d;
                }
                else if (schedulerSeen)
                {
                    // As for the vCPU's host time: without scheduler events a thread out of guest mode may be sleeping.
                    v.L0RootNs += d;
                }
                break;
            case RunState.Preempted:
            case RunState.WaitingAfterWakeup:
                v.L1PreemptedNs += d;
                break;
            case RunState.Blocked:
            case RunState.BlockedQueued:
                v.BlockedNs += d;
                break;
            default:
                break;
        }
    }

    private static bool EntersL2(int reason, ExitIsa isa) =>
        isa == ExitIsa.Svm ? reason == SvmVmrun : reason is VmxVmlaunch or VmxVmresume;

    private static bool IsHlt(int reason, ExitIsa isa) => reason == (isa == ExitIsa.Svm ? SvmHlt : VmxHlt);

    /// <summary>After the kvm tracker's kvm_exit: an L2's exit, the L1's VMLAUNCH/VMRESUME, an L1 exit while handling, or the L1 halting.</summary>
    /// <param name="t">The exit's thread, <paramref name="n"/> its nested state (only such threads are passed on).</param>
    public void OnKvmExit(ThreadInfo t, NestedThread n)
    {
        int reason = t.PendingExitReason;
        var isa = t.Vcpu?.Window.Isa ?? ExitIsa.Unknown;
        switch (n.Mode)
        {
            case NestedMode.L2Running:
                n.Mode = NestedMode.L0Root;
                n.InjectPending = false;
                n.Current!.L2Exits++;
                break;
            case NestedMode.L1Root:
                if (EntersL2(reason, isa))
                {
                    n.Mode = NestedMode.Entering;
                }
                else if (IsHlt(reason, isa))
                {
                    n.Mode = NestedMode.None; // the L1 vCPU idles: it no longer works for the L2
                }
                else
                {
                    n.Current!.L1Exits++;
                }
                break;
            case NestedMode.None:
                if (EntersL2(reason, isa) && n.Current is not null)
                    n.Mode = NestedMode.Entering; // the L2 vCPU it ran last, until kvm_nested_vmenter names the one entered
                break;
            default:
                break;
        }
    }

    /// <summary>After the kvm tracker's kvm_entry: into the L2 (after VMLAUNCH/VMRESUME or an exit L0 handled) or into the L1.</summary>
    /// <param name="t">The entry's thread, <paramref name="n"/> its nested state (only such threads are passed on).</param>
    public void OnKvmEntry(ThreadInfo t, NestedThread n)
    {
        n.GuestSinceEntryNs = 0;
        switch (n.Mode)
        {
            case NestedMode.Entering:
                n.Mode = NestedMode.L2Running;
                if (t.Vcpu is { } vcpu)
                    n.Current!.L1Vcpu = vcpu.VcpuId;
                break;
            case NestedMode.L0Root:
                n.Mode = n.InjectPending ? NestedMode.L1Root : NestedMode.L2Running;
                n.InjectPending = false;
                break;
            default:
                break;
        }
    }

    /// <summary>kvm_nested_vmenter: the L1's VMLAUNCH/VMRESUME (VMRUN) is emulated; names the L2 and its vCPU entered.</summary>
    public void OnNestedVmenter(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = _kvm.ThreadOf(e, running);
        if (t?.Vm is not { } vm)
        {
            _counters.NestedEventsOutOfSequence++;
            return;
        }
        _scheduler.Charge(t, now);
        long pgd = e.Get(FieldRole.GuestPgd, 0);
        bool tdp = e.Get(FieldRole.TdpEnabled, 1) != 0;
        string name = pgd != 0 && tdp ? "ept:0x" + pgd.ToString("x", CultureInfo.InvariantCulture) : "unknown";
        long vmcs = e.Has(FieldRole.NestedVmcs) ? e.Get(FieldRole.NestedVmcs) : -1;
        Enter(t, vm, name, vmcs >= 0 ? vmcs : -1L - t.Tid);
    }

    /// <summary>
    /// The research's addons_vcpu_enter_guest (cr3tmp: the guest's CR3 at the entry). After the L1's VMLAUNCH/VMRESUME it
    /// names the L2 by the L1 CR3 of the thread's last entry into its L1 (the L1 process running the L2). After an exit of the
    /// L2, an entry with that L1 CR3 enters the L1: the exit was reflected to it (those traces have no kvm_nested_vmexit_inject).
    /// Otherwise, on an entry into the L1, it remembers that CR3.
    /// </summary>
    public void OnVcpuEnterGuest(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = _kvm.ThreadOf(e, running);
        if (t?.Vm is not { } vm || !e.Has(FieldRole.Cr3))
            return;
        long cr3 = e.Get(FieldRole.Cr3);
        var n = t.Nested;
        bool entersL2 = t.PendingExitTime >= 0 && EntersL2(t.PendingExitReason, t.Vcpu?.Window.Isa ?? ExitIsa.Unknown);
        if (entersL2 && _l1Cr3.TryGetValue(t.Tid, out long l1Cr3))
        {
            _scheduler.Charge(t, now);
            Enter(t, vm, "l1cr3:0x" + l1Cr3.ToString("x", CultureInfo.InvariantCulture), -1L - t.Tid, l1Cr3);
        }
        else if (n is { Mode: NestedMode.L0Root, InjectPending: false, Current: { } current } && current.Guest.L1Cr3 == cr3 && cr3 != 0)
        {
            _scheduler.Charge(t, now);
            n.InjectPending = true;
            current.ReflectedExits++;
        }
        else if (n is null || n.Mode == NestedMode.None || n.Mode == NestedMode.L1Root || (n.Mode == NestedMode.L0Root && n.InjectPending))
        {
            _l1Cr3[t.Tid] = cr3; // an entry into the L1
        }
    }

    private void Enter(ThreadInfo t, VmInfo vm, string name, long key, long l1Cr3 = 0)
    {
        Active = true;
        if (!_guestsByName.TryGetValue((vm.Index, name), out var guest))
        {
            guest = new NestedL2(_guests.Count, vm, name, l1Cr3);
            _guests.Add(guest);
            _guestsByName[(vm.Index, name)] = guest;
        }
        var vcpu = VcpuOf(guest, key);
        var n = t.Nested;
        if (n is null)
        {
            t.Nested = n = new NestedThread();
            _threads.Add(t);
        }
        n.Current = vcpu;
        n.Mode = NestedMode.Entering;
        n.InjectPending = false;
    }

    private NestedL2Vcpu VcpuOf(NestedL2 guest, long key)
    {
        if (!_vcpusByKey.TryGetValue((guest, key), out var vcpu))
        {
            vcpu = new NestedL2Vcpu(guest, guest.Vcpus.Count, key);
            guest.Vcpus.Add(vcpu);
            _vcpusByKey[(guest, key)] = vcpu;
        }
        return vcpu;
    }

    /// <summary>kvm_nested_vmexit: the exit L0 just saw came from an L2. Counted when the thread was running none.</summary>
    public void OnNestedVmexit(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = _kvm.ThreadOf(e, running);
        if (t?.Nested is not { Mode: NestedMode.L0Root })
        {
            _counters.NestedEventsOutOfSequence++;
            return;
        }
        _scheduler.Charge(t, now);
    }

    /// <summary>kvm_nested_vmexit_inject: L0 reflects the L2's exit to the L1, whose hypervisor will handle it.</summary>
    public void OnNestedVmexitInject(in TraceEvent e, ThreadInfo? running, long now)
    {
        var t = _kvm.ThreadOf(e, running);
        if (t?.Nested is not { Mode: NestedMode.L0Root } n)
        {
            _counters.NestedEventsOutOfSequence++;
            return;
        }
        _scheduler.Charge(t, now);
        if (!n.InjectPending)
            n.Current!.ReflectedExits++;
        n.InjectPending = true;
    }

    /// <summary>The thread's kvm_exit was lost: its guest time since the entry is taken back, and its nested context ends (unknown where it stood).</summary>
    public static void LoseExit(NestedThread n, AnalysisCounters counters)
    {
        if (n.Current is { } v && n.Mode is NestedMode.L2Running or NestedMode.L1Root)
        {
            if (n.Mode == NestedMode.L2Running)
                v.L2RunningNs -= n.GuestSinceEntryNs;
            else
                v.L1RootNs -= n.GuestSinceEntryNs;
        }
        if (n.Mode != NestedMode.None)
            counters.NestedEventsOutOfSequence++;
        n.GuestSinceEntryNs = 0;
        n.Mode = NestedMode.None;
        n.InjectPending = false;
    }

    /// <summary>The closed window's L2 guests of <paramref name="vm"/> (empty when none had figures). Charges are done by then.</summary>
    public IReadOnlyList<NestedGuestMetrics> Snapshot(VmInfo vm)
    {
        if (_guests.Count == 0)
            return [];
        List<NestedGuestMetrics>? result = null;
        foreach (var g in _guests)
        {
            if (g.Vm != vm)
                continue;
            List<NestedVcpuMetrics>? vcpus = null;
            foreach (var v in g.Vcpus)
            {
                if (v.IsEmpty)
                    continue;
                (vcpus ??= []).Add(new NestedVcpuMetrics(v.Number, v.Key >= 0 ? "0x" + v.Key.ToString("x", CultureInfo.InvariantCulture) : "", v.L1Vcpu,
                    new NestedTimes(v.L2RunningNs, v.L1RootNs, v.L0RootNs, v.L1PreemptedNs, v.BlockedNs), v.L2Exits, v.ReflectedExits, v.L1Exits));
            }
            if (vcpus is not null)
                (result ??= []).Add(new NestedGuestMetrics(g.Name, vcpus));
        }
        return result ?? (IReadOnlyList<NestedGuestMetrics>)[];
    }

    /// <summary>After a window closed: its figures are final.</summary>
    public void ClearWindow()
    {
        foreach (var g in _guests)
        {
            foreach (var v in g.Vcpus)
                v.Clear();
        }
        foreach (var t in _threads)
            t.Nested!.GuestSinceEntryNs = 0;
    }

    /// <summary>L1 vCPU threads with a nested context now (for tests).</summary>
    internal int ThreadsInNestedContext => _threads.Count(t => t.Nested!.Mode != NestedMode.None);

    /// <summary>Numbers the L1 vCPU threads with a nested state (after the other trackers'), a thread gone from the table too.</summary>
    public void CollectThreads(ThreadRefs refs)
    {
        foreach (var t in _threads)
            refs.Add(t, inTable: false);
    }

    public void WriteCheckpoint(SectionWriter w, ThreadRefs refs)
    {
        w.Bool(Active);
        w.Count(_guests.Count);
        foreach (var g in _guests)
        {
            w.Int32(g.Vm.Index);
            w.String(g.Name);
            w.Int64(g.L1Cr3);
            w.Count(g.Vcpus.Count);
            foreach (var v in g.Vcpus)
            {
                w.Int64(v.Key);
                v.Write(w);
            }
        }
        w.Count(_threads.Count);
        foreach (var t in _threads)
        {
            var n = t.Nested!;
            w.Int32(refs.Id(t));
            w.Byte((byte)n.Mode);
            w.Int32(n.Current?.Guest.Index ?? -1);
            w.Int32(n.Current?.Number ?? -1);
            w.Bool(n.InjectPending);
            w.Int64(n.GuestSinceEntryNs);
        }
        w.Count(_l1Cr3.Count);
        foreach (var (tid, cr3) in _l1Cr3)
        {
            w.Int32(tid);
            w.Int64(cr3);
        }
    }

    public void ReadCheckpoint(SectionReader r, List<ThreadInfo> threads)
    {
        Active = r.Bool();
        int guests = r.Count(3);
        for (int i = 0; i < guests; i++)
        {
            int vmIndex = r.Reference("nested guest's VM", _identity.Vms.Count);
            if (vmIndex < 0)
                throw r.Damaged("a nested guest without its VM");
            var vm = _identity.Vms[vmIndex];
            string name = r.String();
            if (_guestsByName.ContainsKey((vm.Index, name)))
                throw r.Damaged("nested guest " + name + " twice");
            var g = new NestedL2(i, vm, name, r.Int64());
            _guests.Add(g);
            _guestsByName[(vm.Index, name)] = g;
            int vcpus = r.Count(8);
            for (int k = 0; k < vcpus; k++)
            {
                long key = r.Int64();
                if (_vcpusByKey.ContainsKey((g, key)))
                    throw r.Damaged("nested vCPU twice in " + name);
                var v = VcpuOf(g, key);
                v.Read(r);
            }
        }
        int n = r.Count(4);
        for (int i = 0; i < n; i++)
        {
            var t = ThreadRefs.Read(r, threads, nullable: false)!;
            if (t.Nested is not null)
                throw r.Damaged("nested thread " + t.Tid.ToString(CultureInfo.InvariantCulture) + " twice");
            var nested = new NestedThread { Mode = (NestedMode)r.Enum("nested mode", (byte)NestedMode.L1Root) };
            int guest = r.Int32();
            int number = r.Int32();
            if (guest >= 0)
            {
                if (guest >= _guests.Count || number < 0 || number >= _guests[guest].Vcpus.Count)
                    throw r.Damaged("nested thread's L2 vCPU");
                nested.Current = _guests[guest].Vcpus[number];
            }
            nested.InjectPending = r.Bool();
            nested.GuestSinceEntryNs = r.Int64();
            t.Nested = nested;
            _threads.Add(t);
        }
        int cr3s = r.Count(12);
        for (int i = 0; i < cr3s; i++)
        {
            int tid = r.Int32();
            if (!_l1Cr3.TryAdd(tid, r.Int64()))
                throw r.Damaged("L1 CR3 of thread " + tid.ToString(CultureInfo.InvariantCulture) + " twice");
        }
    }
}
