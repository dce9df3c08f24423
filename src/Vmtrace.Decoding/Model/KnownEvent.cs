namespace Vmtrace.Decoding;

/// <summary>
/// The events vmtrace understands, whatever tracer recorded them. <see cref="EventCatalog"/> maps
/// each tracer's name (LTTng, ftrace, perf, qemu log, Trace Compass XML) to one of these.
/// </summary>
public enum KnownEvent : byte
{
    Unknown = 0,

    // Scheduler and task lifecycle
    SchedSwitch,
    SchedWakeup,
    SchedWaking,
    SchedWakeupNew,
    SchedMigrateTask,
    SchedProcessFork,
    SchedProcessExec,
    SchedProcessExit,
    SchedProcessFree,
    TaskNewtask,
    TaskRename,
    StatedumpProcessState,

    // KVM
    KvmEntry,
    KvmExit,
    KvmUserspaceExit,
    KvmNestedVmexit,
    KvmNestedVmexitInject,
    KvmMmuGetPage,
    KvmHypercall,
    KvmVcpuWakeup,
    VcpuEnterGuest,
    VmsyncGuestToHostHost,
    VmsyncHostToGuestHost,
    VmsyncGuestToHostGuest,
    VmsyncHostToGuestGuest,

    // Network
    NetDevXmit,
    NetDevQueue,
    NetifReceiveSkb,
    NetifRx,

    // Block layer
    BlockRqInsert,
    BlockRqIssue,
    BlockRqComplete,

    // QEMU userspace (LTTng ust provider "qemu" or qemu's log backend)
    QemuThreadPoolSubmit,
    QemuThreadPoolComplete,
    QemuBdrvCoIoEm,

    // Interrupts and idle
    IrqHandlerEntry,
    IrqHandlerExit,
    SoftirqRaise,
    SoftirqEntry,
    SoftirqExit,
    CpuIdle,

    /// <summary>ftrace <c>print</c> (trace_marker writes).</summary>
    Print,

    /// <summary>Synthetic: the tracer reported events lost on this CPU/stream (field "count", 0 if unknown).</summary>
    LostEvents,

    /// <summary>
    /// <c>sched_stat_runtime</c>: run time the scheduler has just charged to a thread (the increments of its
    /// <c>sum_exec_runtime</c>). After <see cref="LostEvents"/> so the existing values keep their numbers.
    /// </summary>
    SchedStatRuntime,

    /// <summary>qemu <c>virtio_blk_handle_read</c>: a guest read request as virtio-blk takes it (sector, nsectors).</summary>
    QemuVirtioBlkHandleRead,

    /// <summary>qemu <c>virtio_blk_handle_write</c>: a guest write request as virtio-blk takes it (sector, nsectors).</summary>
    QemuVirtioBlkHandleWrite,

    /// <summary>qemu <c>blk_co_preadv</c>: a read at the block-backend layer, any device model (offset, bytes).</summary>
    QemuBlkCoPreadv,

    /// <summary>qemu <c>blk_co_pwritev</c>: a write at the block-backend layer, any device model (offset, bytes).</summary>
    QemuBlkCoPwritev,

    /// <summary><c>kvm_apic_accept_irq</c>: an interrupt accepted by a vCPU's local APIC (apicid, vec).</summary>
    KvmApicAcceptIrq,

    /// <summary><c>kvm_inj_virq</c>: the vCPU thread injects an interrupt vector into its guest (vec, or irq on older kernels).</summary>
    KvmInjVirq,

    /// <summary><c>kvm_apic_ipi</c>: a vCPU sends an IPI (the next kvm_apic_accept_irq on its CPU delivers it).</summary>
    KvmApicIpi,

    /// <summary><c>kvm_msi_set_irq</c>: a device's MSI is injected (the next kvm_apic_accept_irq on the CPU delivers it).</summary>
    KvmMsiSetIrq,

    /// <summary><c>kvm_set_irq</c>: a device's interrupt line is raised (ioapic/pic route it to a vCPU).</summary>
    KvmSetIrq,

    /// <summary><c>hrtimer_expire_entry</c> or the x86 <c>local_timer_entry</c>: a timer interrupt's handler starts on this CPU.</summary>
    TimerInterruptEntry,

    /// <summary><c>hrtimer_expire_exit</c> or <c>local_timer_exit</c>: it ends.</summary>
    TimerInterruptExit,

    /// <summary>
    /// <c>kvm_nested_vmenter</c> (older: <c>kvm_nested_vmrun</c>): an L1 hypervisor's VMLAUNCH/VMRESUME/VMRUN is emulated and the vCPU
    /// is about to enter its L2 guest (vmcb: the L2 vCPU's vmcs12/vmcb address; guest_pgd: the L2's nested page table root).
    /// </summary>
    KvmNestedVmenter,
}
