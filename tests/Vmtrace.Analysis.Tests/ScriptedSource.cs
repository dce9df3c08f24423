using System.Text;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Tests;

/// <summary>A hand-written event sequence with ftrace field names, for unit tests of the analysis.</summary>
internal sealed class ScriptedSource : EventSource
{
    private static readonly EventType SwitchType = new("sched_switch",
    [
        new("prev_comm", FieldKind.String), new("prev_pid", FieldKind.Signed), new("prev_prio", FieldKind.Signed),
        new("prev_state", FieldKind.Signed), new("next_comm", FieldKind.String), new("next_pid", FieldKind.Signed),
        new("next_prio", FieldKind.Signed),
    ]);
    private static readonly EventType WakeupType = new("sched_wakeup",
        [new("comm", FieldKind.String), new("pid", FieldKind.Signed), new("prio", FieldKind.Signed), new("target_cpu", FieldKind.Signed)]);
    private static readonly EventType WakingType = new("sched_waking",
        [new("comm", FieldKind.String), new("pid", FieldKind.Signed), new("prio", FieldKind.Signed), new("target_cpu", FieldKind.Signed)]);
    private static readonly EventType MigrateType = new("sched_migrate_task",
        [new("comm", FieldKind.String), new("pid", FieldKind.Signed), new("prio", FieldKind.Signed), new("orig_cpu", FieldKind.Signed), new("dest_cpu", FieldKind.Signed)]);
    private static readonly EventType RuntimeType = new("sched_stat_runtime",
        [new("comm", FieldKind.String), new("pid", FieldKind.Signed), new("runtime", FieldKind.Unsigned)]);
    private static readonly EventType EntryType = new("kvm_entry", [new("vcpu_id", FieldKind.Unsigned), new("rip", FieldKind.Unsigned)]);
    private static readonly EventType ExitType = new("kvm_exit",
        [new("exit_reason", FieldKind.Unsigned), new("guest_rip", FieldKind.Unsigned), new("vcpu_id", FieldKind.Unsigned)]);
    private static readonly EventType NewTaskType = new("task_newtask",
        [new("pid", FieldKind.Signed), new("comm", FieldKind.String), new("clone_flags", FieldKind.Unsigned)]);
    private static readonly EventType ForkType = new("sched_process_fork",
        [new("parent_comm", FieldKind.String), new("parent_pid", FieldKind.Signed), new("child_comm", FieldKind.String), new("child_pid", FieldKind.Signed)]);
    private static readonly EventType ExecType = new("sched_process_exec",
        [new("filename", FieldKind.String), new("pid", FieldKind.Signed), new("old_pid", FieldKind.Signed)]);
    private static readonly EventType StatedumpType = new("lttng_statedump_process_state",
        [new("tid", FieldKind.Signed), new("vtid", FieldKind.Signed), new("pid", FieldKind.Signed), new("vpid", FieldKind.Signed),
         new("ppid", FieldKind.Signed), new("vppid", FieldKind.Signed), new("name", FieldKind.String), new("type", FieldKind.Signed),
         new("mode", FieldKind.Signed), new("submode", FieldKind.Signed), new("status", FieldKind.Signed), new("cpu", FieldKind.Signed)]);
    private static readonly EventType SubmitType = new("thread_pool_submit",
        [new("pool", FieldKind.Unsigned), new("req", FieldKind.Unsigned), new("opaque", FieldKind.Unsigned)]);
    private static readonly EventType CompleteType = new("thread_pool_complete",
        [new("pool", FieldKind.Unsigned), new("req", FieldKind.Unsigned), new("opaque", FieldKind.Unsigned), new("ret", FieldKind.Signed)]);
    private static readonly EventType IssueType = new("block_rq_issue",
        [new("dev", FieldKind.Unsigned), new("sector", FieldKind.Unsigned), new("nr_sector", FieldKind.Unsigned),
         new("bytes", FieldKind.Unsigned), new("rwbs", FieldKind.String), new("comm", FieldKind.String)]);
    private static readonly EventType BlockCompleteType = new("block_rq_complete",
        [new("dev", FieldKind.Unsigned), new("sector", FieldKind.Unsigned), new("nr_sector", FieldKind.Unsigned),
         new("error", FieldKind.Signed), new("rwbs", FieldKind.String)]);
    private static readonly EventType XmitType = new("net_dev_xmit",
        [new("skbaddr", FieldKind.Unsigned), new("len", FieldKind.Unsigned), new("rc", FieldKind.Signed), new("name", FieldKind.String)]);
    private static readonly EventType ReceiveType = new("netif_receive_skb",
        [new("skbaddr", FieldKind.Unsigned), new("len", FieldKind.Unsigned), new("name", FieldKind.String)]);

    private static readonly EventType QueueType = new("net_dev_queue",
        [new("skbaddr", FieldKind.Unsigned), new("len", FieldKind.Unsigned), new("name", FieldKind.String)]);
    private static readonly EventType IrqEntryType = new("irq_handler_entry", [new("irq", FieldKind.Signed), new("name", FieldKind.String)]);
    private static readonly EventType IrqExitType = new("irq_handler_exit", [new("irq", FieldKind.Signed), new("ret", FieldKind.Signed)]);
    private static readonly EventType HrtimerEntryType = new("hrtimer_expire_entry",
        [new("hrtimer", FieldKind.Unsigned), new("now", FieldKind.Signed), new("function", FieldKind.Unsigned)]);
    private static readonly EventType HrtimerExitType = new("hrtimer_expire_exit", [new("hrtimer", FieldKind.Unsigned)]);
    private static readonly EventType SoftirqEntryType = new("softirq_entry", [new("vec", FieldKind.Unsigned)]);
    private static readonly EventType SoftirqExitType = new("softirq_exit", [new("vec", FieldKind.Unsigned)]);
    private static readonly EventType AcceptIrqType = new("kvm_apic_accept_irq",
        [new("apicid", FieldKind.Unsigned), new("dm", FieldKind.Unsigned), new("tm", FieldKind.Unsigned), new("vec", FieldKind.Unsigned)]);
    private static readonly EventType ApicIpiType = new("kvm_apic_ipi", [new("icr_low", FieldKind.Unsigned), new("dest_id", FieldKind.Unsigned)]);
    private static readonly EventType MsiSetIrqType = new("kvm_msi_set_irq", [new("address", FieldKind.Unsigned), new("data", FieldKind.Unsigned)]);

    // Nested virtualisation, with the fields of arch/x86/kvm/trace.h (kvm_nested_vmenter since guest_pgd was added) and the
    // research's addons_vcpu_enter_guest (lttng-modules addons).
    private static readonly EventType NestedVmenterType = new("kvm_nested_vmenter",
        [new("rip", FieldKind.Unsigned), new("vmcb", FieldKind.Unsigned), new("nested_rip", FieldKind.Unsigned), new("int_ctl", FieldKind.Unsigned),
         new("event_inj", FieldKind.Unsigned), new("tdp_enabled", FieldKind.Unsigned), new("guest_pgd", FieldKind.Unsigned), new("isa", FieldKind.Unsigned)]);
    private static readonly EventType NestedVmexitType = new("kvm_nested_vmexit",
        [new("vcpu_id", FieldKind.Unsigned), new("exit_reason", FieldKind.Unsigned), new("guest_rip", FieldKind.Unsigned), new("isa", FieldKind.Unsigned),
         new("info1", FieldKind.Unsigned), new("info2", FieldKind.Unsigned), new("intr_info", FieldKind.Unsigned), new("error_code", FieldKind.Unsigned)]);
    private static readonly EventType NestedVmexitInjectType = new("kvm_nested_vmexit_inject",
        [new("exit_code", FieldKind.Unsigned), new("exit_info1", FieldKind.Unsigned), new("exit_info2", FieldKind.Unsigned),
         new("exit_int_info", FieldKind.Unsigned), new("exit_int_info_err", FieldKind.Unsigned), new("isa", FieldKind.Unsigned)]);
    private static readonly EventType EnterGuestType = new("addons_vcpu_enter_guest",
        [new("vcpuID", FieldKind.Unsigned), new("cr3tmp", FieldKind.Unsigned), new("sptmp", FieldKind.Unsigned)]);

    private readonly List<(long Ts, int Cpu, int Tid, EventType Type, object[] Values)> _events = [];
    private readonly EventRecordBuffer _buffer = new();
    private int _index = -1;

    public override string Description => "scripted";

    public override TraceEvent Current
    {
        get
        {
            var (ts, cpu, tid, type, _) = _events[_index];
            return _buffer.View(ts, cpu, tid, type);
        }
    }

    public override bool MoveNext()
    {
        if (++_index >= _events.Count)
            return false;
        var (_, _, _, type, values) = _events[_index];
        _buffer.Reset(type);
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] is string s)
                _buffer.SetString(i, Encoding.UTF8.GetBytes(s));
            else
                _buffer.SetInt(i, Convert.ToInt64(values[i], System.Globalization.CultureInfo.InvariantCulture));
        }
        return true;
    }

    private ScriptedSource Add(long ts, int cpu, int tid, EventType type, params object[] values)
    {
        _events.Add((ts, cpu, tid, type, values));
        return this;
    }

    /// <param name="prevState">0 = runnable (preempted), 1 = sleeping.</param>
    public ScriptedSource Switch(long ts, int cpu, int prevTid, string prevComm, long prevState, int nextTid, string nextComm) =>
        Add(ts, cpu, prevTid, SwitchType, prevComm, prevTid, 120, prevState, nextComm, nextTid, 120);

    public ScriptedSource Wakeup(long ts, int cpu, int wakerTid, int tid, int targetCpu) =>
        Add(ts, cpu, wakerTid, WakeupType, "x", tid, 120, targetCpu);

    public ScriptedSource Waking(long ts, int cpu, int wakerTid, int tid, int targetCpu) =>
        Add(ts, cpu, wakerTid, WakingType, "t", tid, 120, targetCpu);

    /// <summary>sched_migrate_task of <paramref name="tid"/>, emitted by <paramref name="cpuTid"/> on <paramref name="cpu"/> (a balancer, a stopper).</summary>
    public ScriptedSource Migrate(long ts, int cpu, int cpuTid, int tid, int origCpu, int destCpu) =>
        Add(ts, cpu, cpuTid, MigrateType, "t", tid, 120, origCpu, destCpu);

    /// <summary>sched_stat_runtime: the scheduler charged <paramref name="runtime"/> ns to <paramref name="tid"/> (emitted by <paramref name="cpuTid"/>).</summary>
    public ScriptedSource StatRuntime(long ts, int cpu, int cpuTid, int tid, string comm, long runtime) =>
        Add(ts, cpu, cpuTid, RuntimeType, comm, tid, runtime);

    public ScriptedSource Entry(long ts, int cpu, int tid, int vcpu) => Add(ts, cpu, tid, EntryType, vcpu, 0);

    public ScriptedSource Exit(long ts, int cpu, int tid, int vcpu, int reason) => Add(ts, cpu, tid, ExitType, reason, 0, vcpu);

    public ScriptedSource NewThread(long ts, int cpu, int parentTid, int childTid, string comm) =>
        Add(ts, cpu, parentTid, NewTaskType, childTid, comm, 0x3d0f00);

    /// <summary>A task_newtask that makes a new process (no CLONE_THREAD), as fork() does.</summary>
    public ScriptedSource NewProcess(long ts, int cpu, int parentTid, int childTid, string comm) =>
        Add(ts, cpu, parentTid, NewTaskType, childTid, comm, 0x01200011);

    /// <summary>ftrace sched_process_fork: parent and child tids only (thread or process, the event does not say).</summary>
    public ScriptedSource Fork(long ts, int cpu, int parentTid, string parentComm, int childTid) =>
        Add(ts, cpu, parentTid, ForkType, parentComm, parentTid, parentComm, childTid);

    public ScriptedSource Exec(long ts, int cpu, int tid, string filename) => Add(ts, cpu, tid, ExecType, filename, tid, tid);

    /// <summary>LTTng statedump line for a task: tid, its process (tgid) and name.</summary>
    public ScriptedSource Statedump(long ts, int tid, int pid, string name) =>
        Add(ts, 0, -1, StatedumpType, tid, tid, pid, pid, 1, 1, name, 0, 0, 0, 2, 0);

    /// <summary>sched_waking with the target's name, as the kernel writes it.</summary>
    public ScriptedSource Waking(long ts, int cpu, int wakerTid, int tid, string comm) =>
        Add(ts, cpu, wakerTid, WakingType, comm, tid, 120, cpu);

    public ScriptedSource PoolSubmit(long ts, int tid, long req) => Add(ts, -1, tid, SubmitType, 1, req, 2);

    public ScriptedSource PoolComplete(long ts, int tid, long req) => Add(ts, -1, tid, CompleteType, 1, req, 2, 0);

    public ScriptedSource BlockIssue(long ts, int cpu, int tid, long sector, long bytes, string rwbs) =>
        Add(ts, cpu, tid, IssueType, 8, sector, bytes / 512, bytes, rwbs, "worker");

    public ScriptedSource BlockComplete(long ts, int cpu, int tid, long sector, long bytes) =>
        Add(ts, cpu, tid, BlockCompleteType, 8, sector, bytes / 512, 0, "R");

    public ScriptedSource Xmit(long ts, int cpu, int tid, string dev, long len) => Add(ts, cpu, tid, XmitType, 0, len, 0, dev);

    public ScriptedSource Receive(long ts, int cpu, int tid, string dev, long len) => Add(ts, cpu, tid, ReceiveType, 0, len, dev);

    public ScriptedSource Queue(long ts, int cpu, int tid, string dev, long len) => Add(ts, cpu, tid, QueueType, 0, len, dev);

    public ScriptedSource IrqEntry(long ts, int cpu, int tid, int irq, string name) => Add(ts, cpu, tid, IrqEntryType, irq, name);

    public ScriptedSource IrqExit(long ts, int cpu, int tid, int irq) => Add(ts, cpu, tid, IrqExitType, irq, 1);

    public ScriptedSource HrtimerEntry(long ts, int cpu, int tid) => Add(ts, cpu, tid, HrtimerEntryType, 1, ts, 2);

    public ScriptedSource HrtimerExit(long ts, int cpu, int tid) => Add(ts, cpu, tid, HrtimerExitType, 1);

    public ScriptedSource SoftirqEntry(long ts, int cpu, int tid, int vec) => Add(ts, cpu, tid, SoftirqEntryType, vec);

    public ScriptedSource SoftirqExit(long ts, int cpu, int tid, int vec) => Add(ts, cpu, tid, SoftirqExitType, vec);

    public ScriptedSource AcceptIrq(long ts, int cpu, int tid, int apicId, int vec) => Add(ts, cpu, tid, AcceptIrqType, apicId, 0, 0, vec);

    public ScriptedSource ApicIpi(long ts, int cpu, int tid, int destId) => Add(ts, cpu, tid, ApicIpiType, 0xfd, destId);

    public ScriptedSource MsiSetIrq(long ts, int cpu, int tid) => Add(ts, cpu, tid, MsiSetIrqType, 0xfee00000, 0x28);

    /// <summary>kvm_nested_vmenter (VMX, EPT on): the L1's VMLAUNCH/VMRESUME of the L2 vCPU whose vmcs12 is at <paramref name="vmcs"/>.</summary>
    public ScriptedSource NestedVmenter(long ts, int cpu, int tid, long vmcs, long guestPgd) =>
        Add(ts, cpu, tid, NestedVmenterType, 0x81000000, vmcs, 0x401000, 0, 0, 1, guestPgd, 1);

    public ScriptedSource NestedVmexit(long ts, int cpu, int tid, int vcpu, int reason) =>
        Add(ts, cpu, tid, NestedVmexitType, vcpu, reason, 0x401000, 1, 0, 0, 0, 0);

    public ScriptedSource NestedVmexitInject(long ts, int cpu, int tid, int reason) =>
        Add(ts, cpu, tid, NestedVmexitInjectType, reason, 0, 0, 0, 0, 1);

    /// <summary>The research's addons_vcpu_enter_guest: the guest's CR3 at the entry.</summary>
    public ScriptedSource EnterGuest(long ts, int cpu, int tid, int vcpu, long cr3) => Add(ts, cpu, tid, EnterGuestType, vcpu, cr3, 0x123f00);
}
