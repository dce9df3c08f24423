using System.Runtime.CompilerServices;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Wait causes: what ended each blocked interval of a vCPU thread, found by following the wake-up chain to its root.
/// Every VM thread remembers what woke it last (<see cref="ThreadInfo.WokenCause"/>); when thread W wakes thread T, T's
/// cause is W's context or W itself: an interrupt or softirq running on W's CPU (timer, block, network by softirq vector,
/// by interrupt name, by a block completion or a packet queued on a tap there), the idle task (an interrupt no event
/// shows: the local timer), another vCPU of the VM, its vhost or thread-pool workers, or — for the VM's other qemu
/// threads (main loop, I/O threads) — whatever woke W in turn; any other process is the host. Where kvm tells which
/// interrupt the guest took (kvm_apic_accept_irq, kvm_inj_virq), its vector decides: the local timer, an IPI (another
/// vCPU), or a device vector named by the context that injected it (kvm_msi_set_irq from vhost → net, …).
/// A timer interrupt shows only where the trace has hrtimer_expire_entry or local_timer_entry: without them, a timer that
/// fires while another process runs looks like that process (host). A wait is charged whole, when it ends, to the vCPU's
/// open window. Nothing is allocated per event.
/// </summary>
internal sealed class WaitCauseTracker
{
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private CpuContext[] _cpus = new CpuContext[8];
    private WaitCause[] _irqCauses = new WaitCause[64];
    private bool _irqEventsSeen;

    public WaitCauseTracker(IdentityTracker identity, SchedulerTracker scheduler)
    {
        _identity = identity;
        _scheduler = scheduler;
    }

    /// <summary>What runs on a CPU besides its thread: the interrupt and softirq in progress, and a marker of the thread's own work.</summary>
    private struct CpuContext
    {
        public WaitCause Irq;
        public long IrqAt;
        public WaitCause Softirq;
        public long SoftirqAt;
        /// <summary>A block completion or a packet queued on a tap in the running thread itself, until the CPU next switches.</summary>
        public WaitCause Task;
        public long TaskAt;
        /// <summary>A kvm_apic_ipi was sent here: the next interrupt accepted on this CPU comes from a vCPU.</summary>
        public bool IpiSent;
        /// <summary>A device interrupt (kvm_msi_set_irq, kvm_set_irq) is being injected from here.</summary>
        public bool DeviceInjection;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref CpuContext Cpu(int cpu)
    {
        if ((uint)cpu >= (uint)_cpus.Length)
            Array.Resize(ref _cpus, Math.Max(cpu + 1, _cpus.Length * 2));
        return ref _cpus[cpu];
    }

    // ---- Interrupt and softirq context -------------------------------------------------------------------------------

    public void OnIrqEntry(in TraceEvent e, int cpu, long now)
    {
        _irqEventsSeen = true;
        if (cpu < 0)
            return;
        ref var c = ref Cpu(cpu);
        c.Irq = IrqCause((int)e.Get(FieldRole.Irq, -1), e.GetText(FieldRole.DeviceName));
        c.IrqAt = now;
    }

    /// <summary>hrtimer_expire_entry / local_timer_entry: what the timer's handler wakes, a timer woke (hrtimer_wakeup of a timed sleep).</summary>
    public void OnTimerInterruptEntry(int cpu, long now)
    {
        if (cpu < 0)
            return;
        ref var c = ref Cpu(cpu);
        c.Irq = WaitCause.Timer;
        c.IrqAt = now;
    }

    public void OnIrqExit(int cpu)
    {
        if (cpu >= 0)
            Cpu(cpu).Irq = WaitCause.None;
    }

    public void OnSoftirqEntry(in TraceEvent e, int cpu, long now)
    {
        _irqEventsSeen = true;
        if (cpu < 0)
            return;
        ref var c = ref Cpu(cpu);
        c.Softirq = SoftirqCause(e.Get(FieldRole.Vec, -1));
        c.SoftirqAt = now;
    }

    public void OnSoftirqExit(int cpu)
    {
        if (cpu >= 0)
            Cpu(cpu).Softirq = WaitCause.None;
    }

    /// <summary>block_rq_complete: what it wakes (the qemu worker waiting for its I/O) was woken by the disk.</summary>
    public void OnBlockComplete(int cpu, long now) => Mark(cpu, WaitCause.Disk, now);

    /// <summary>net_dev_queue: a packet for a tap; the tap wakes its reader (qemu, vhost) before net_dev_xmit.</summary>
    public void OnNetDevQueue(in TraceEvent e, int cpu, long now)
    {
        if (IsTap(e.GetText(FieldRole.DeviceName)))
            Mark(cpu, WaitCause.Net, now);
    }

    /// <summary>net_dev_xmit: the packet's transmission, and so its wake-up, is over.</summary>
    public void OnNetDevXmit(in TraceEvent e, int cpu)
    {
        if (cpu >= 0 && IsTap(e.GetText(FieldRole.DeviceName)))
        {
            ref var c = ref Cpu(cpu);
            if (c.Task == WaitCause.Net)
                c.Task = WaitCause.None;
        }
    }

    /// <summary>
    /// netif_receive_skb / netif_rx on a tap in a qemu helper thread (main loop, I/O thread): it moves the guest's packets,
    /// so what it wakes next (the vCPU, with the reply's interrupt) is the network's doing.
    /// </summary>
    public void OnTapReceive(in TraceEvent e, ThreadInfo? running)
    {
        if (running is { Vm: not null, Vcpu: null } && IsTap(e.GetText(FieldRole.DeviceName)))
            running.WokenCause = WaitCause.Net;
    }

    /// <summary>qemu's thread_pool_complete: the thread (qemu's main loop) completes a disk request; what it wakes next is the disk's doing.</summary>
    public void OnQemuDiskCompletion(in TraceEvent e)
    {
        if (e.Tid > 0 && _identity.TryGetThread(e.Tid, out var t) && t.Vm is not null && t.Vcpu is null)
            t.WokenCause = WaitCause.Disk;
    }

    private static bool IsTap(ReadOnlySpan<byte> name) => name.StartsWith("tap"u8) || name.StartsWith("vnet"u8) || name.StartsWith("macvtap"u8);

    /// <summary>Marks the innermost context running on the CPU (interrupt, softirq, else the thread) with a cause.</summary>
    private void Mark(int cpu, WaitCause cause, long now)
    {
        if (cpu < 0)
            return;
        ref var c = ref Cpu(cpu);
        long since = _scheduler.SwitchTimeOf(cpu);
        if (c.Irq != WaitCause.None && c.IrqAt >= since)
            c.Irq = cause;
        else if (c.Softirq != WaitCause.None && c.SoftirqAt >= since)
            c.Softirq = cause;
        else
        {
            c.Task = cause;
            c.TaskAt = now;
        }
    }

    /// <summary>The cause the CPU's interrupt, softirq or marked work gives (None when none runs there now).</summary>
    private WaitCause ContextCause(int cpu)
    {
        if ((uint)cpu >= (uint)_cpus.Length)
            return WaitCause.None;
        ref var c = ref _cpus[cpu];
        // An interrupt never spans a switch: one begun before the CPU's last switch lost its exit.
        long since = _scheduler.SwitchTimeOf(cpu);
        if (c.Irq != WaitCause.None && c.IrqAt >= since)
            return c.Irq;
        if (c.Softirq != WaitCause.None && c.SoftirqAt >= since)
            return c.Softirq;
        if (c.Task != WaitCause.None && c.TaskAt >= since)
            return c.Task;
        return WaitCause.None;
    }

    /// <summary>Linux softirq vectors: HI 0, TIMER 1, NET_TX 2, NET_RX 3, BLOCK 4, IRQ_POLL 5, TASKLET 6, SCHED 7, HRTIMER 8, RCU 9.</summary>
    private static WaitCause SoftirqCause(long vec) => vec switch
    {
        1 or 8 => WaitCause.Timer,
        2 or 3 => WaitCause.Net,
        4 or 5 => WaitCause.Disk,
        7 or 9 => WaitCause.Host,
        _ => WaitCause.Unknown,
    };

    /// <summary>A device interrupt's cause, from its handler's name (classified once per interrupt number).</summary>
    private WaitCause IrqCause(int irq, ReadOnlySpan<byte> name)
    {
        if ((uint)irq >= 65536)
            return ClassifyIrqName(name);
        if (irq >= _irqCauses.Length)
            Array.Resize(ref _irqCauses, Math.Max(irq + 1, _irqCauses.Length * 2));
        var cause = _irqCauses[irq];
        if (cause == WaitCause.None)
            _irqCauses[irq] = cause = ClassifyIrqName(name);
        return cause;
    }

    /// <summary>Disk and network controllers by the names their drivers give their interrupts (virtio: "virtio1-req.0", "virtio3-input.0").</summary>
    internal static WaitCause ClassifyIrqName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
            return WaitCause.Unknown;
        if (Has(name, "timer"u8) || Has(name, "hpet"u8) || Has(name, "rtc"u8))
            return WaitCause.Timer;
        if (Has(name, "-req"u8) || Has(name, "nvme"u8) || Has(name, "ahci"u8) || Has(name, "ata_"u8) || Has(name, "scsi"u8)
            || Has(name, "blk"u8) || Has(name, "mmc"u8) || Has(name, "megasas"u8))
            return WaitCause.Disk;
        if (Has(name, "-rx"u8) || Has(name, "-tx"u8) || Has(name, "-input"u8) || Has(name, "-output"u8) || Has(name, "eth"u8)
            || Has(name, "enp"u8) || Has(name, "ens"u8) || Has(name, "eno"u8) || Has(name, "wlan"u8) || Has(name, "wlp"u8)
            || Has(name, "mlx"u8) || Has(name, "ixgbe"u8) || Has(name, "i40e"u8) || Has(name, "igb"u8) || Has(name, "e1000"u8))
            return WaitCause.Net;
        return WaitCause.Unknown;
    }

    private static bool Has(ReadOnlySpan<byte> name, ReadOnlySpan<byte> part) => name.IndexOf(part) >= 0;

    // ---- The wake-up chain ------------------------------------------------------------------------------------------

    /// <summary>
    /// What a wake-up by the event's context gives the thread it wakes (a thread of <paramref name="vm"/>): the CPU's
    /// interrupt context, else the waker thread <paramref name="waker"/> (tid <paramref name="wakerTid"/>; 0 is idle).
    /// </summary>
    private WaitCause CauseOfWaker(int cpu, int wakerTid, ThreadInfo? waker, VmInfo? vm)
    {
        var context = ContextCause(cpu);
        if (context != WaitCause.None)
            return context;
        // From idle with no interrupt traced: the local timer's (its interrupt has no irq_handler event) when device
        // interrupts are traced, else it cannot be told.
        if (wakerTid == 0)
            return _irqEventsSeen ? WaitCause.Timer : WaitCause.Unknown;
        if (waker is null)
            return WaitCause.Unknown;
        return CauseOfThread(waker, vm);
    }

    /// <summary>What a thread passes on to a thread of <paramref name="vm"/> it wakes or interrupts.</summary>
    private static WaitCause CauseOfThread(ThreadInfo waker, VmInfo? vm)
    {
        if (waker.Vm is null || waker.Vm != vm)
            return WaitCause.Host;
        if (waker.Vcpu is not null)
            return WaitCause.Vcpu;
        if (waker.Role == ThreadRole.Vhost)
            return WaitCause.Net;
        // qemu's thread pool (-name …,debug-threads=on names them "worker"): they run the VM's disk I/O.
        if (waker.CommUtf8.StartsWith("worker"u8))
            return WaitCause.Disk;
        // The main loop, I/O threads, call_rcu: they pass on what woke them.
        return waker.WokenCause == WaitCause.None ? WaitCause.Unknown : waker.WokenCause;
    }

    /// <summary>
    /// A VM thread leaves a sleep (or an unknown state) by a wake-up; called before its state changes. Records what
    /// woke it; for a vCPU thread that was blocked, the blocked interval ends here and is charged to that cause.
    /// </summary>
    public void OnWoken(ThreadInfo t, int cpu, int wakerTid, ThreadInfo? waker, long now)
    {
        var cause = CauseOfWaker(cpu, wakerTid, waker, t.Vm);
        t.WokenCause = cause;
        if (t.Vcpu is null || t.State is not (RunState.Blocked or RunState.BlockedQueued))
            return;
        EndWait(t, now - t.StateStart, cause);
    }

    /// <summary>A blocked vCPU thread runs again with no wake-up seen (not traced, or lost): what ended its wait is unknown.</summary>
    public void OnRunWithoutWakeup(ThreadInfo t, long blockedNs)
    {
        t.WokenCause = WaitCause.Unknown;
        EndWait(t, blockedNs, WaitCause.Unknown);
    }

    private static void EndWait(ThreadInfo t, long ns, WaitCause cause)
    {
        if (ns <= 0 || t.Vcpu is not { } vcpu)
            return;
        if (t.PendingExitTime >= 0)
        {
            // Blocked inside a VM exit (HLT): the interrupt kvm accepts before the next entry may say more.
            if (t.PendingWaitNs == 0)
                t.PendingWaitCause = cause;
            t.PendingWaitNs += ns;
            return;
        }
        vcpu.Window.WaitCauseNs[(int)cause] += ns;
    }

    // ---- kvm: the interrupt the guest took --------------------------------------------------------------------------

    /// <summary>VMX exit reason 12 and SVM exit code 0x78 are HLT.</summary>
    private static bool IsHalt(ThreadInfo t, VcpuInfo vcpu) =>
        t.PendingExitReason == (vcpu.Window.Isa == ExitIsa.Svm ? 0x78 : 12);

    /// <summary>
    /// A vCPU thread enters the guest (before its pending exit is closed): the wait that ended since its exit is charged,
    /// to the interrupt kvm accepted for it when one was, else to its wake-up chain. Without scheduler events (a
    /// kvm-only trace), the wait is the HLT exit itself, exit → entry.
    /// </summary>
    /// <param name="vcpu">The vCPU <paramref name="t"/> runs (the kvm tracker made it one).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnKvmEntry(ThreadInfo t, VcpuInfo vcpu, long now)
    {
        var injected = t.InjectedCause;
        t.InjectedCause = WaitCause.None;
        if (t.PendingWaitNs > 0)
        {
            vcpu.Window.WaitCauseNs[(int)(injected != WaitCause.None ? injected : t.PendingWaitCause)] += t.PendingWaitNs;
            t.PendingWaitNs = 0;
            t.PendingWaitCause = WaitCause.None;
        }
        else if (!_scheduler.SchedulerSeen && t.PendingExitTime >= 0)
        {
            // Nothing added after an exit other than HLT: selected, not branched on, as HLT and other exits come in no
            // order a branch predictor learns.
            bool waited = IsHalt(t, vcpu) & now > t.PendingExitTime;
            long ns = waited ? now - t.PendingExitTime : 0;
            vcpu.Window.WaitCauseNs[(int)(injected != WaitCause.None ? injected : WaitCause.Unknown)] += ns;
        }
    }

    public void OnApicIpi(int cpu)
    {
        if (cpu >= 0)
            Cpu(cpu).IpiSent = true;
    }

    public void OnDeviceInjection(int cpu)
    {
        if (cpu >= 0)
            Cpu(cpu).DeviceInjection = true;
    }

    /// <summary>
    /// kvm_apic_accept_irq: an interrupt for the vCPU whose APIC id the event gives, in the VM of the thread that
    /// delivers it (the vCPU itself for its timer, the sender vCPU for an IPI, qemu or vhost for a device). A delivery
    /// from outside any VM (a host timer interrupt) cannot name its VM and is left out.
    /// </summary>
    public void OnApicAcceptIrq(in TraceEvent e, int cpu, ThreadInfo? running)
    {
        bool ipi = false, device = false;
        if (cpu >= 0)
        {
            ref var c = ref Cpu(cpu);
            ipi = c.IpiSent;
            device = c.DeviceInjection;
            c.IpiSent = c.DeviceInjection = false;
        }
        if (running?.Vm is not { } vm)
            return;
        int apicId = (int)e.Get(FieldRole.ApicId, -1);
        ThreadInfo? target = null;
        foreach (var v in vm.Vcpus)
        {
            if (v.VcpuId == apicId && _identity.TryGetThread(v.Tid, out var vt))
            {
                target = vt;
                break;
            }
        }
        if (target is null)
            return;
        Accept(target, running, e.Get(FieldRole.Vec, -1), ipi, device);
    }

    /// <summary>kvm_inj_virq: the vCPU thread itself injects the vector into its guest.</summary>
    public void OnInjVirq(in TraceEvent e, ThreadInfo? running)
    {
        if (running?.Vcpu is null)
            return;
        long vec = e.Has(FieldRole.Vec) ? e.Get(FieldRole.Vec, -1) : e.Get(FieldRole.Irq, -1);
        Accept(running, running, vec, ipi: false, device: false);
    }

    private static void Accept(ThreadInfo target, ThreadInfo deliverer, long vec, bool ipi, bool device)
    {
        if (target.InjectedCause != WaitCause.None)
            return;
        target.InjectedCause = VectorCause(target, deliverer, vec, ipi, device);
    }

    /// <summary>
    /// Linux x86 guest vectors: 0xec the local APIC timer (0xed Hyper-V's stimer); 0xf6 irq work, 0xfb–0xfd the
    /// call-function and reschedule IPIs; 0x20–0xeb devices, named by who injected them.
    /// </summary>
    internal static WaitCause VectorCause(ThreadInfo target, ThreadInfo deliverer, long vec, bool ipi, bool device)
    {
        if (ipi)
            return WaitCause.Vcpu;
        if (vec is 0xec or 0xed)
            return WaitCause.Timer;
        if (vec is 0xf6 or (>= 0xfb and <= 0xfd))
            return WaitCause.Vcpu;
        if (device || deliverer != target)
        {
            var cause = CauseOfThread(deliverer, target.Vm);
            // A device vector delivered by another vCPU is its I/O emulation's; by the vCPU itself, nothing tells.
            return cause == WaitCause.Vcpu ? WaitCause.Unknown : cause;
        }
        return WaitCause.Unknown;
    }

    // ---- Checkpoint -------------------------------------------------------------------------------------------------

    public void WriteCheckpoint(SectionWriter w, ThreadRefs refs)
    {
        w.Bool(_irqEventsSeen);
        w.Count(_cpus.Length);
        foreach (var c in _cpus)
        {
            w.Byte((byte)c.Irq);
            w.Int64(c.IrqAt);
            w.Byte((byte)c.Softirq);
            w.Int64(c.SoftirqAt);
            w.Byte((byte)c.Task);
            w.Int64(c.TaskAt);
            w.Bool(c.IpiSent);
            w.Bool(c.DeviceInjection);
        }
        w.Count(_irqCauses.Length);
        foreach (var cause in _irqCauses)
            w.Byte((byte)cause);
        foreach (var t in refs.Threads)
        {
            w.Byte((byte)t.WokenCause);
            w.Byte((byte)t.InjectedCause);
            w.Int64(t.PendingWaitNs);
            w.Byte((byte)t.PendingWaitCause);
        }
        foreach (var vm in _identity.Vms)
        {
            foreach (var v in vm.Vcpus)
            {
                foreach (long ns in v.Window.WaitCauseNs)
                    w.Int64(ns);
            }
        }
    }

    public void ReadCheckpoint(SectionReader r, List<ThreadInfo> threads)
    {
        _irqEventsSeen = r.Bool();
        int cpus = r.Count(21);
        if (cpus > 65536)
            throw r.Damaged("CPU contexts " + cpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _cpus = new CpuContext[Math.Max(cpus, 1)];
        for (int i = 0; i < cpus; i++)
        {
            _cpus[i] = new CpuContext
            {
                Irq = Cause(r),
                IrqAt = r.Int64(),
                Softirq = Cause(r),
                SoftirqAt = r.Int64(),
                Task = Cause(r),
                TaskAt = r.Int64(),
                IpiSent = r.Bool(),
                DeviceInjection = r.Bool(),
            };
        }
        int irqs = r.Count(1);
        if (irqs > 65536)
            throw r.Damaged("interrupt causes " + irqs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _irqCauses = new WaitCause[Math.Max(irqs, 1)];
        for (int i = 0; i < irqs; i++)
            _irqCauses[i] = Cause(r);
        foreach (var t in threads)
        {
            t.WokenCause = Cause(r);
            t.InjectedCause = Cause(r);
            t.PendingWaitNs = r.Int64();
            t.PendingWaitCause = Cause(r);
        }
        foreach (var vm in _identity.Vms)
        {
            foreach (var v in vm.Vcpus)
            {
                var ns = v.Window.WaitCauseNs;
                for (int k = 0; k < ns.Length; k++)
                    ns[k] = r.Int64();
            }
        }
    }

    private static WaitCause Cause(SectionReader r) => (WaitCause)r.Enum("wait cause", (byte)WaitCause.Unknown);
}
