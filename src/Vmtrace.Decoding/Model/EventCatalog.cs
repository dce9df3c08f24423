using System.Collections.Frozen;

namespace Vmtrace.Decoding;

/// <summary>
/// The one place where tracer-specific event and field names are mapped to vmtrace's meanings.
/// LTTng (<c>kvm_x86_entry</c>, <c>net_if_rx</c>, <c>irq_softirq_entry</c>), ftrace (<c>kvm_entry</c>,
/// <c>netif_rx</c>, <c>prev_pid</c>), perf CTF (<c>sched:sched_switch</c>), qemu's log backend and
/// Trace Compass XML stubs all land on the same <see cref="KnownEvent"/> and <see cref="FieldRole"/>.
/// Called once per event type, never per event.
/// </summary>
public static class EventCatalog
{
    private static readonly FrozenDictionary<string, KnownEvent> Names = new Dictionary<string, KnownEvent>(StringComparer.Ordinal)
    {
        ["sched_switch"] = KnownEvent.SchedSwitch,
        ["sched_wakeup"] = KnownEvent.SchedWakeup,
        ["sched_waking"] = KnownEvent.SchedWaking,
        ["sched_wakeup_new"] = KnownEvent.SchedWakeupNew,
        ["sched_migrate_task"] = KnownEvent.SchedMigrateTask,
        ["sched_process_fork"] = KnownEvent.SchedProcessFork,
        ["sched_process_exec"] = KnownEvent.SchedProcessExec,
        ["sched_process_exit"] = KnownEvent.SchedProcessExit,
        ["sched_process_free"] = KnownEvent.SchedProcessFree,
        ["sched_stat_runtime"] = KnownEvent.SchedStatRuntime,
        ["task_newtask"] = KnownEvent.TaskNewtask,
        ["task_rename"] = KnownEvent.TaskRename,
        ["lttng_statedump_process_state"] = KnownEvent.StatedumpProcessState,

        ["kvm_entry"] = KnownEvent.KvmEntry,
        ["kvm_x86_entry"] = KnownEvent.KvmEntry,
        ["kvm_exit"] = KnownEvent.KvmExit,
        ["kvm_x86_exit"] = KnownEvent.KvmExit,
        ["kvm_userspace_exit"] = KnownEvent.KvmUserspaceExit,
        ["kvm_nested_vmexit"] = KnownEvent.KvmNestedVmexit,
        ["kvm_x86_nested_vmexit"] = KnownEvent.KvmNestedVmexit,
        ["kvm_nested_vmexit_inject"] = KnownEvent.KvmNestedVmexitInject,
        ["kvm_x86_nested_vmexit_inject"] = KnownEvent.KvmNestedVmexitInject,
        ["kvm_nested_vmenter"] = KnownEvent.KvmNestedVmenter,
        ["kvm_x86_nested_vmenter"] = KnownEvent.KvmNestedVmenter,
        ["kvm_nested_vmrun"] = KnownEvent.KvmNestedVmenter,
        ["kvm_x86_nested_vmrun"] = KnownEvent.KvmNestedVmenter,
        ["kvm_mmu_get_page"] = KnownEvent.KvmMmuGetPage,
        ["kvm_x86_mmu_get_page"] = KnownEvent.KvmMmuGetPage,
        ["kvm_hypercall"] = KnownEvent.KvmHypercall,
        ["kvm_x86_hypercall"] = KnownEvent.KvmHypercall,
        ["kvm_vcpu_wakeup"] = KnownEvent.KvmVcpuWakeup,
        ["kvm_apic_accept_irq"] = KnownEvent.KvmApicAcceptIrq,
        ["kvm_x86_apic_accept_irq"] = KnownEvent.KvmApicAcceptIrq,
        ["kvm_inj_virq"] = KnownEvent.KvmInjVirq,
        ["kvm_x86_inj_virq"] = KnownEvent.KvmInjVirq,
        ["kvm_apic_ipi"] = KnownEvent.KvmApicIpi,
        ["kvm_x86_apic_ipi"] = KnownEvent.KvmApicIpi,
        ["kvm_msi_set_irq"] = KnownEvent.KvmMsiSetIrq,
        ["kvm_x86_msi_set_irq"] = KnownEvent.KvmMsiSetIrq,
        ["kvm_set_irq"] = KnownEvent.KvmSetIrq,
        ["addons_vcpu_enter_guest"] = KnownEvent.VcpuEnterGuest,
        ["vcpu_enter_guest"] = KnownEvent.VcpuEnterGuest,
        ["vmsync_gh_host"] = KnownEvent.VmsyncGuestToHostHost,
        ["vmsync_hg_host"] = KnownEvent.VmsyncHostToGuestHost,
        ["vmsync_gh_guest"] = KnownEvent.VmsyncGuestToHostGuest,
        ["vmsync_hg_guest"] = KnownEvent.VmsyncHostToGuestGuest,

        ["net_dev_xmit"] = KnownEvent.NetDevXmit,
        ["net_dev_queue"] = KnownEvent.NetDevQueue,
        ["netif_receive_skb"] = KnownEvent.NetifReceiveSkb,
        ["net_if_receive_skb"] = KnownEvent.NetifReceiveSkb,
        ["netif_rx"] = KnownEvent.NetifRx,
        ["net_if_rx"] = KnownEvent.NetifRx,

        ["block_rq_insert"] = KnownEvent.BlockRqInsert,
        ["block_rq_issue"] = KnownEvent.BlockRqIssue,
        ["block_rq_complete"] = KnownEvent.BlockRqComplete,

        ["thread_pool_submit"] = KnownEvent.QemuThreadPoolSubmit,
        ["thread_pool_complete"] = KnownEvent.QemuThreadPoolComplete,
        ["bdrv_co_io_em"] = KnownEvent.QemuBdrvCoIoEm,
        ["virtio_blk_handle_read"] = KnownEvent.QemuVirtioBlkHandleRead,
        ["virtio_blk_handle_write"] = KnownEvent.QemuVirtioBlkHandleWrite,
        ["blk_co_preadv"] = KnownEvent.QemuBlkCoPreadv,
        ["blk_co_pwritev"] = KnownEvent.QemuBlkCoPwritev,

        ["irq_handler_entry"] = KnownEvent.IrqHandlerEntry,
        ["irq_handler_exit"] = KnownEvent.IrqHandlerExit,
        ["softirq_raise"] = KnownEvent.SoftirqRaise,
        ["irq_softirq_raise"] = KnownEvent.SoftirqRaise,
        ["softirq_entry"] = KnownEvent.SoftirqEntry,
        ["irq_softirq_entry"] = KnownEvent.SoftirqEntry,
        ["softirq_exit"] = KnownEvent.SoftirqExit,
        ["irq_softirq_exit"] = KnownEvent.SoftirqExit,
        ["hrtimer_expire_entry"] = KnownEvent.TimerInterruptEntry,
        ["timer_hrtimer_expire_entry"] = KnownEvent.TimerInterruptEntry,
        ["local_timer_entry"] = KnownEvent.TimerInterruptEntry,
        ["x86_irq_vectors_local_timer_entry"] = KnownEvent.TimerInterruptEntry,
        ["hrtimer_expire_exit"] = KnownEvent.TimerInterruptExit,
        ["timer_hrtimer_expire_exit"] = KnownEvent.TimerInterruptExit,
        ["local_timer_exit"] = KnownEvent.TimerInterruptExit,
        ["x86_irq_vectors_local_timer_exit"] = KnownEvent.TimerInterruptExit,
        ["cpu_idle"] = KnownEvent.CpuIdle,
        ["power_cpu_idle"] = KnownEvent.CpuIdle,
        ["print"] = KnownEvent.Print,
        [LostEventsName] = KnownEvent.LostEvents,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Name of the synthetic event a reader emits where the tracer says events were lost.</summary>
    public const string LostEventsName = "vmtrace_lost_events";

    // Field-name aliases, in order of preference. Names are compared after CTF's leading '_' is removed.
    private static readonly (FieldRole Role, string[] Names)[] CommonAliases =
    [
        (FieldRole.Tid, ["tid", "pid"]),
        (FieldRole.Comm, ["comm"]),
        (FieldRole.Prio, ["prio"]),
        (FieldRole.PrevTid, ["prev_tid", "prev_pid"]),
        (FieldRole.PrevComm, ["prev_comm"]),
        (FieldRole.PrevState, ["prev_state"]),
        (FieldRole.PrevPrio, ["prev_prio"]),
        (FieldRole.NextTid, ["next_tid", "next_pid"]),
        (FieldRole.NextComm, ["next_comm"]),
        (FieldRole.NextPrio, ["next_prio"]),
        (FieldRole.ParentTid, ["parent_tid", "parent_pid"]),
        (FieldRole.ParentComm, ["parent_comm"]),
        (FieldRole.ChildTid, ["child_tid", "child_pid"]),
        (FieldRole.ChildComm, ["child_comm"]),
        (FieldRole.Ppid, ["ppid"]),
        (FieldRole.TargetCpu, ["target_cpu"]),
        (FieldRole.OrigCpu, ["orig_cpu"]),
        (FieldRole.DestCpu, ["dest_cpu"]),
        (FieldRole.CloneFlags, ["clone_flags"]),
        (FieldRole.OldComm, ["oldcomm"]),
        (FieldRole.NewComm, ["newcomm"]),
        (FieldRole.Filename, ["filename"]),
        (FieldRole.ProcessType, ["type"]),
        (FieldRole.VcpuId, ["vcpu_id"]),
        (FieldRole.ExitReason, ["exit_reason", "exit_code"]),
        (FieldRole.Isa, ["isa"]),
        (FieldRole.GuestRip, ["guest_rip", "rip"]),
        (FieldRole.Info1, ["info1"]),
        (FieldRole.Info2, ["info2"]),
        (FieldRole.Reason, ["reason"]),
        (FieldRole.Errno, ["errno"]),
        (FieldRole.Cr3, ["cr3tmp", "cr3"]),
        (FieldRole.Sp, ["sptmp", "sp"]),
        (FieldRole.Ip, ["iptmp", "ip"]),
        (FieldRole.VmUid, ["vm_uid"]),
        (FieldRole.SyncCount, ["cnt"]),
        (FieldRole.Gfn, ["gfn"]),
        (FieldRole.HaltPollNs, ["ns"]),
        (FieldRole.Waited, ["waited"]),
        (FieldRole.SkbAddr, ["skbaddr"]),
        (FieldRole.Len, ["len"]),
        (FieldRole.DeviceName, ["name"]),
        (FieldRole.Dev, ["dev"]),
        (FieldRole.Sector, ["sector"]),
        (FieldRole.NrSector, ["nr_sector"]),
        (FieldRole.Bytes, ["bytes"]),
        (FieldRole.Rwbs, ["rwbs"]),
        (FieldRole.Req, ["req"]),
        (FieldRole.Opaque, ["opaque"]),
        (FieldRole.Acb, ["acb"]),
        (FieldRole.IsWrite, ["is_write"]),
        (FieldRole.NbSectors, ["nb_sectors", "nsectors"]),
        (FieldRole.SectorNum, ["sector_num"]),
        (FieldRole.Irq, ["irq"]),
        (FieldRole.Vec, ["vec", "vector"]),
        (FieldRole.State, ["state"]),
        (FieldRole.Count, ["count"]),
        (FieldRole.Buf, ["buf"]),
        (FieldRole.Runtime, ["runtime"]),
        (FieldRole.ApicId, ["apicid"]),
        (FieldRole.GuestPgd, ["guest_pgd"]),
        (FieldRole.NestedVmcs, ["vmcb"]),
        (FieldRole.TdpEnabled, ["tdp_enabled", "npt"]),
    ];

    private static readonly int RoleCount = Enum.GetValues<FieldRole>().Length;

    /// <summary>Maps a tracer's event name to a <see cref="KnownEvent"/>. Accepts "system:name" (perf, LTTng UST "qemu:…").</summary>
    public static KnownEvent Classify(string eventName)
    {
        if (Names.TryGetValue(eventName, out var known))
            return known;
        int colon = eventName.LastIndexOf(':');
        if (colon >= 0 && Names.TryGetValue(eventName[(colon + 1)..], out known))
            return known;
        return KnownEvent.Unknown;
    }

    /// <summary>Resolves every role to a field slot (-1 when absent) for one event type.</summary>
    public static int[] ResolveRoles(KnownEvent known, IReadOnlyList<FieldDescriptor> fields)
    {
        var slots = new int[RoleCount];
        Array.Fill(slots, -1);
        foreach (var (role, names) in CommonAliases)
            slots[(int)role] = FindFirst(fields, names);

        // Where tracers disagree on what a name means, say so per event.
        switch (known)
        {
            case KnownEvent.SchedProcessFork:
                // LTTng: parent_tid/parent_pid and child_tid/child_pid are tid and tgid.
                // ftrace: parent_pid/child_pid are tids and there is no tgid.
                slots[(int)FieldRole.ParentPid] = HasField(fields, "parent_tid") ? FindFirst(fields, ["parent_pid"]) : -1;
                slots[(int)FieldRole.ChildPid] = HasField(fields, "child_tid") ? FindFirst(fields, ["child_pid"]) : -1;
                break;
            case KnownEvent.StatedumpProcessState:
            case KnownEvent.SchedProcessExec:
                slots[(int)FieldRole.Pid] = HasField(fields, "tid") ? FindFirst(fields, ["pid"]) : -1;
                break;
            case KnownEvent.SchedProcessExit:
            case KnownEvent.SchedProcessFree:
                break;
            default:
                break;
        }
        // "type" only means the statedump's process type; "name"/"state" are too generic to trust elsewhere.
        if (known != KnownEvent.StatedumpProcessState)
            slots[(int)FieldRole.ProcessType] = -1;
        if (known is not (KnownEvent.NetDevXmit or KnownEvent.NetDevQueue or KnownEvent.NetifReceiveSkb or KnownEvent.NetifRx
            or KnownEvent.IrqHandlerEntry))
            slots[(int)FieldRole.DeviceName] = -1;
        if (known is not (KnownEvent.QemuThreadPoolSubmit or KnownEvent.QemuThreadPoolComplete or KnownEvent.QemuBdrvCoIoEm))
            slots[(int)FieldRole.Opaque] = -1;
        return slots;
    }

    private static bool HasField(IReadOnlyList<FieldDescriptor> fields, string name) => FindFirst(fields, [name]) >= 0;

    private static int FindFirst(IReadOnlyList<FieldDescriptor> fields, string[] names)
    {
        foreach (var name in names)
        {
            for (int i = 0; i < fields.Count; i++)
            {
                if (string.Equals(fields[i].Name, name, StringComparison.Ordinal))
                    return i;
            }
        }
        return -1;
    }
}
