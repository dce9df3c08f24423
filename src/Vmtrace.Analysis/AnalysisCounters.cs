namespace Vmtrace.Analysis;

/// <summary>How much the analysis had to guess or leave out. Counters only grow.</summary>
public sealed class AnalysisCounters
{
    public long Events { get; internal set; }
    /// <summary>Context switches not in the trace, inferred from an event's tid contradicting the CPU's current thread.</summary>
    public long InferredSwitches { get; internal set; }
    /// <summary>Events whose timestamp went backwards; they are handled at the latest time seen.</summary>
    public long OutOfOrderEvents { get; internal set; }
    /// <summary>
    /// Time jumps: gaps between consecutive events longer than <see cref="AnalysisOptions.MaxGapNs"/> (a corrupt
    /// timestamp, a clock step). Their time is not analysed and their windows are not made.
    /// </summary>
    public long TimeJumps { get; internal set; }
    /// <summary>Total length of the time jumps, in ns.</summary>
    public long TimeJumpNs { get; internal set; }
    /// <summary>Places where the tracer reported lost events.</summary>
    public long LossReports { get; internal set; }
    /// <summary>kvm_entry events with no thread known (no tid, no sched_switch on that CPU yet).</summary>
    public long KvmEventsWithoutThread { get; internal set; }
    /// <summary>kvm_exit events still waiting for their kvm_entry when the analysis ended.</summary>
    public long UnfinishedExits { get; internal set; }
    /// <summary>kvm_exit events inferred lost: the vCPU thread showed host activity or moved CPU while in guest.</summary>
    public long LostExits { get; internal set; }
    /// <summary>qemu thread_pool_complete or block_rq_complete with no matching open request.</summary>
    public long UnmatchedCompletions { get; internal set; }
    /// <summary>qemu disk events with no thread id (so no VM): not charged to any VM.</summary>
    public long UnattributedQemuDiskEvents { get; internal set; }
    /// <summary>
    /// Events other than sched_switch that carry no thread id (an LTTng trace without the <c>tid</c> context, XML stubs):
    /// a context switch missing from the trace cannot be inferred from them, nor a lost kvm_exit detected.
    /// </summary>
    public long EventsWithoutTid { get; internal set; }
    /// <summary>block_rq_issue with no tid and no thread known on its CPU: the request is charged to no VM.</summary>
    public long BlockIssuesWithoutThread { get; internal set; }
    /// <summary>Packets on a tap device not yet tied to a VM, with no tid and no thread known on their CPU to tie it: counted for no VM.</summary>
    public long NetEventsWithoutThread { get; internal set; }
    /// <summary>
    /// Nested events out of sequence: kvm_nested_vmexit or kvm_nested_vmexit_inject of a thread running no L2 (a nested exit
    /// without its entry), kvm_nested_vmenter of a thread no VM owns, or a nested context ended by a lost kvm_exit. Ignored.
    /// </summary>
    public long NestedEventsOutOfSequence { get; internal set; }

    internal void WriteTo(Checkpoint.SectionWriter w)
    {
        w.Int64(Events);
        w.Int64(InferredSwitches);
        w.Int64(OutOfOrderEvents);
        w.Int64(TimeJumps);
        w.Int64(TimeJumpNs);
        w.Int64(LossReports);
        w.Int64(KvmEventsWithoutThread);
        w.Int64(UnfinishedExits);
        w.Int64(LostExits);
        w.Int64(UnmatchedCompletions);
        w.Int64(UnattributedQemuDiskEvents);
        w.Int64(EventsWithoutTid);
        w.Int64(BlockIssuesWithoutThread);
        w.Int64(NetEventsWithoutThread);
        w.Int64(NestedEventsOutOfSequence);
    }

    internal void ReadFrom(Checkpoint.SectionReader r)
    {
        Events = r.Int64();
        InferredSwitches = r.Int64();
        OutOfOrderEvents = r.Int64();
        TimeJumps = r.Int64();
        TimeJumpNs = r.Int64();
        LossReports = r.Int64();
        KvmEventsWithoutThread = r.Int64();
        UnfinishedExits = r.Int64();
        LostExits = r.Int64();
        UnmatchedCompletions = r.Int64();
        UnattributedQemuDiskEvents = r.Int64();
        EventsWithoutTid = r.Int64();
        BlockIssuesWithoutThread = r.Int64();
        NetEventsWithoutThread = r.Int64();
        NestedEventsOutOfSequence = r.Int64();
    }
}
