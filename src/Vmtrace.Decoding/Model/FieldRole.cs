namespace Vmtrace.Decoding;

/// <summary>
/// The meaning of a field, independent of how a tracer names it (<c>prev_tid</c> vs <c>prev_pid</c>).
/// An <see cref="EventType"/> resolves each role to a slot once; -1 when the event has no such field.
/// </summary>
public enum FieldRole
{
    // sched
    Tid,
    Comm,
    Prio,
    PrevTid,
    PrevComm,
    PrevState,
    PrevPrio,
    NextTid,
    NextComm,
    NextPrio,
    ParentTid,
    ParentPid,
    ParentComm,
    ChildTid,
    ChildPid,
    ChildComm,
    Pid,
    Ppid,
    TargetCpu,
    OrigCpu,
    DestCpu,
    CloneFlags,
    OldComm,
    NewComm,
    Filename,
    ProcessType,

    // kvm
    VcpuId,
    ExitReason,
    Isa,
    GuestRip,
    Info1,
    Info2,
    Reason,
    Errno,
    Cr3,
    Sp,
    Ip,
    VmUid,
    SyncCount,
    Gfn,
    HaltPollNs,
    Waited,

    // net
    SkbAddr,
    Len,
    DeviceName,

    // block
    Dev,
    Sector,
    NrSector,
    Bytes,
    Rwbs,

    // qemu
    Req,
    Opaque,
    Acb,
    IsWrite,
    NbSectors,
    SectorNum,

    // irq / idle / misc
    Irq,
    Vec,
    State,
    Count,
    Buf,

    // sched_stat_runtime (last, so existing roles keep their numbers)
    Runtime,

    // kvm_apic_accept_irq (after Runtime, so existing roles keep their numbers)
    ApicId,

    // kvm_nested_vmenter (after ApicId, so existing roles keep their numbers)
    GuestPgd,
    NestedVmcs,
    TdpEnabled,
}
