namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>The kernel events the analysis uses. Missing ones (kvm on a host without KVM, nested events) are skipped and reported.</summary>
public static class TracefsEventList
{
    public static readonly IReadOnlyList<string> Default =
    [
        "sched:sched_switch", "sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_waking",
        "sched:sched_migrate_task", "sched:sched_process_fork", "sched:sched_process_exec",
        "sched:sched_process_exit", "sched:sched_process_free",
        // The run time the scheduler charges (what /proc/PID/task/TID/schedstat sums): on-CPU time per VM from it.
        "sched:sched_stat_runtime", "task:task_newtask", "task:task_rename",
        "kvm:kvm_entry", "kvm:kvm_exit", "kvm:kvm_userspace_exit", "kvm:kvm_nested_vmenter", "kvm:kvm_nested_vmexit",
        "kvm:kvm_nested_vmexit_inject", "kvm:kvm_vcpu_wakeup", "kvm:kvm_halt_poll_ns", "kvm:kvm_pio", "kvm:kvm_mmio",
        "kvm:kvm_msr", "kvm:kvm_inj_virq", "kvm:kvm_set_irq", "kvm:kvm_ple_window_update",
        "irq:softirq_entry", "irq:softirq_exit", "power:cpu_idle",
        "net:net_dev_queue", "net:net_dev_xmit", "net:netif_rx", "net:netif_receive_skb",
        "block:block_rq_insert", "block:block_rq_issue", "block:block_rq_complete",
    ];

    /// <summary>Events that are not switched on but whose format is loaded because they reach the buffer anyway (trace_marker writes).</summary>
    public static readonly IReadOnlyList<string> AlwaysPresent = ["ftrace:print"];
}
