using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>
/// The one place that says what of an event goes on the wire: for each <see cref="KnownEvent"/>, the
/// fields (by <see cref="FieldRole"/>) the analysis reads, and how each column is encoded. Every event
/// keeps its timestamp, CPU, tid and type, because the analysis infers missing context switches from
/// the tid of whatever event comes next on a CPU; its fields are dropped unless listed here.
/// Adding a role the analysis starts to read is a one-line change below (the equivalence tests on the
/// real traces fail until it is made).
/// </summary>
public static class WireEventSelection
{
    private static readonly FieldRole[][] RolesByKnown = BuildRoles();

    /// <summary>Fields the analysis reads by exact name rather than by role (statedump's process name).</summary>
    private static readonly string[][] NamesByKnown = BuildNames();

    /// <summary>The roles whose fields are sent for events of that kind (empty: timestamp, CPU, tid and type only).</summary>
    public static IReadOnlyList<FieldRole> Roles(KnownEvent known) => RolesByKnown[(int)known];

    private static FieldRole[][] BuildRoles()
    {
        var table = new FieldRole[Enum.GetValues<KnownEvent>().Length][];
        Array.Fill(table, []);
        void Set(FieldRole[] roles, params KnownEvent[] events)
        {
            foreach (var e in events)
                table[(int)e] = roles;
        }

        Set([FieldRole.PrevTid, FieldRole.PrevComm, FieldRole.PrevState, FieldRole.NextTid, FieldRole.NextComm], KnownEvent.SchedSwitch);
        Set([FieldRole.Tid, FieldRole.TargetCpu], KnownEvent.SchedWakeup, KnownEvent.SchedWaking, KnownEvent.SchedWakeupNew);
        Set([FieldRole.Tid, FieldRole.DestCpu], KnownEvent.SchedMigrateTask);
        // ChildPid is only resolved when child_tid is present (LTTng), so ChildTid must come along.
        Set([FieldRole.ChildTid, FieldRole.ChildPid, FieldRole.ChildComm], KnownEvent.SchedProcessFork);
        Set([FieldRole.Tid, FieldRole.Pid], KnownEvent.SchedProcessExec);
        Set([FieldRole.Tid], KnownEvent.SchedProcessExit, KnownEvent.SchedProcessFree);
        Set([FieldRole.Tid, FieldRole.Comm, FieldRole.Runtime], KnownEvent.SchedStatRuntime);
        Set([FieldRole.Tid, FieldRole.Comm, FieldRole.CloneFlags], KnownEvent.TaskNewtask);
        Set([FieldRole.Tid, FieldRole.NewComm], KnownEvent.TaskRename);
        Set([FieldRole.Tid, FieldRole.Pid, FieldRole.Ppid], KnownEvent.StatedumpProcessState);

        // The guest RIP (kvm_entry's rip, kvm_exit's guest_rip) tells the guest mode; the research's vcpu_enter_guest its CR3 and SP.
        Set([FieldRole.VcpuId, FieldRole.GuestRip], KnownEvent.KvmEntry);
        Set([FieldRole.VcpuId, FieldRole.Cr3, FieldRole.Sp], KnownEvent.VcpuEnterGuest);
        Set([FieldRole.GuestPgd, FieldRole.NestedVmcs, FieldRole.TdpEnabled], KnownEvent.KvmNestedVmenter);
        Set([FieldRole.VcpuId, FieldRole.ExitReason, FieldRole.Isa, FieldRole.GuestRip], KnownEvent.KvmExit);
        Set([FieldRole.VcpuId, FieldRole.ExitReason], KnownEvent.KvmNestedVmexit, KnownEvent.KvmNestedVmexitInject);
        Set([FieldRole.Reason, FieldRole.Errno], KnownEvent.KvmUserspaceExit);
        Set([FieldRole.HaltPollNs, FieldRole.Waited], KnownEvent.KvmVcpuWakeup);
        Set([FieldRole.VmUid, FieldRole.SyncCount], KnownEvent.VmsyncGuestToHostHost, KnownEvent.VmsyncHostToGuestHost,
            KnownEvent.VmsyncGuestToHostGuest, KnownEvent.VmsyncHostToGuestGuest);

        Set([FieldRole.DeviceName, FieldRole.Len], KnownEvent.NetDevXmit, KnownEvent.NetDevQueue, KnownEvent.NetifReceiveSkb, KnownEvent.NetifRx);
        Set([FieldRole.Dev, FieldRole.Sector, FieldRole.NrSector, FieldRole.Bytes, FieldRole.Rwbs],
            KnownEvent.BlockRqInsert, KnownEvent.BlockRqIssue, KnownEvent.BlockRqComplete);

        Set([FieldRole.Req], KnownEvent.QemuThreadPoolSubmit, KnownEvent.QemuThreadPoolComplete);
        Set([FieldRole.IsWrite, FieldRole.NbSectors], KnownEvent.QemuBdrvCoIoEm);
        Set([FieldRole.NbSectors], KnownEvent.QemuVirtioBlkHandleRead, KnownEvent.QemuVirtioBlkHandleWrite);
        Set([FieldRole.Bytes], KnownEvent.QemuBlkCoPreadv, KnownEvent.QemuBlkCoPwritev);

        Set([FieldRole.Count], KnownEvent.LostEvents);

        // Wait causes: the interrupt and softirq contexts, and the interrupts kvm delivers to vCPUs.
        Set([FieldRole.Irq, FieldRole.DeviceName], KnownEvent.IrqHandlerEntry);
        Set([FieldRole.Vec], KnownEvent.SoftirqEntry);
        Set([FieldRole.ApicId, FieldRole.Vec], KnownEvent.KvmApicAcceptIrq);
        Set([FieldRole.Vec, FieldRole.Irq], KnownEvent.KvmInjVirq);
        return table;
    }

    private static string[][] BuildNames()
    {
        var table = new string[Enum.GetValues<KnownEvent>().Length][];
        Array.Fill(table, []);
        table[(int)KnownEvent.StatedumpProcessState] = ["name"];
        return table;
    }

    /// <summary>
    /// The slots of <paramref name="type"/> that are sent, in slot order. Integer arrays are never sent.
    /// If dropping the other fields would make a kept role resolve to a different field on the worker's
    /// rebuilt type, every scalar field is kept instead (<paramref name="allFields"/> is then true).
    /// </summary>
    public static int[] SelectSlots(EventType type, out bool allFields)
    {
        ArgumentNullException.ThrowIfNull(type);
        allFields = false;
        var fields = type.Fields;
        var keep = new bool[fields.Length];
        var roles = RolesByKnown[(int)type.Known];
        foreach (var role in roles)
        {
            int slot = type.Slot(role);
            if (slot >= 0 && fields[slot].Kind != FieldKind.IntArray)
                keep[slot] = true;
        }
        foreach (var name in NamesByKnown[(int)type.Known])
        {
            int slot = type.IndexOf(name);
            if (slot >= 0 && fields[slot].Kind != FieldKind.IntArray)
                keep[slot] = true;
        }
        var slots = Enumerable.Range(0, fields.Length).Where(i => keep[i]).ToArray();
        if (!ResolvesTheSame(type, slots, roles))
        {
            allFields = true;
            slots = Enumerable.Range(0, fields.Length).Where(i => fields[i].Kind != FieldKind.IntArray).ToArray();
        }
        return slots;
    }

    private static bool ResolvesTheSame(EventType type, int[] slots, FieldRole[] roles)
    {
        var subset = slots.Select(s => type.Fields[s]).ToArray();
        var resolved = EventCatalog.ResolveRoles(type.Known, subset);
        foreach (var role in roles)
        {
            int original = type.Slot(role);
            int rebuilt = resolved[(int)role];
            string? originalName = original >= 0 && type.Fields[original].Kind != FieldKind.IntArray ? type.Fields[original].Name : null;
            string? rebuiltName = rebuilt >= 0 ? subset[rebuilt].Name : null;
            if (originalName != rebuiltName)
                return false;
        }
        return true;
    }

    /// <summary>How the column of one kept field is encoded: deltas where neighbouring values are close.</summary>
    public static ColumnEncoding EncodingOf(EventType type, int slot)
    {
        ArgumentNullException.ThrowIfNull(type);
        var field = type.Fields[slot];
        if (field.Kind == FieldKind.String)
            return ColumnEncoding.StringIndex;
        if (field.Kind == FieldKind.Float)
            return ColumnEncoding.Plain;
        if (slot == type.Slot(FieldRole.PrevTid))
            return ColumnEncoding.MinusTid; // the thread switching out is almost always the event's own
        if (slot == type.Slot(FieldRole.Tid) && type.Known is KnownEvent.SchedProcessExit or KnownEvent.TaskRename or KnownEvent.SchedProcessExec)
            return ColumnEncoding.MinusTid;
        if (slot == type.Slot(FieldRole.Req) || slot == type.Slot(FieldRole.Sector))
            return ColumnEncoding.Delta; // heap addresses and disk sectors: near the previous one
        return ColumnEncoding.Plain;
    }
}
