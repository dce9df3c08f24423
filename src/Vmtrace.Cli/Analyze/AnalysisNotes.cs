using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary>
/// One line per kind of attribution the analysis could not make, with how many events it concerns: what a
/// trace lacking a thread id per event (an LTTng trace recorded without the <c>tid</c> context) costs.
/// </summary>
internal static class AnalysisNotes
{
    public static IReadOnlyList<string> Of(AnalysisCounters c)
    {
        var notes = new List<string>();
        if (c.EventsWithoutTid > 0)
            notes.Add($"{Units.Count(c.EventsWithoutTid)} events carry no thread id (an LTTng trace without the tid context?): context switches missing from the trace cannot be inferred from them, nor lost kvm_exit events detected; their thread is taken from sched_switch alone");
        if (c.KvmEventsWithoutThread > 0)
            notes.Add($"{Units.Count(c.KvmEventsWithoutThread)} kvm_entry/kvm_exit events with no thread known (no tid, no sched_switch on their CPU yet): charged to no vCPU");
        if (c.BlockIssuesWithoutThread > 0)
            notes.Add($"{Units.Count(c.BlockIssuesWithoutThread)} block requests issued with no thread known (no tid, no sched_switch on their CPU yet): charged to no VM");
        if (c.NetEventsWithoutThread > 0)
            notes.Add($"{Units.Count(c.NetEventsWithoutThread)} packets on a tap device of no known VM with no thread known to tie it to one (no tid, no sched_switch on their CPU yet): counted for no VM");
        if (c.UnattributedQemuDiskEvents > 0)
            notes.Add($"{Units.Count(c.UnattributedQemuDiskEvents)} qemu disk events with no thread id: charged to no VM");
        if (c.NestedEventsOutOfSequence > 0)
            notes.Add($"{Units.Count(c.NestedEventsOutOfSequence)} nested kvm events fit no L2 run (a nested exit without its entry, a lost kvm_exit in a nested context): ignored");
        return notes;
    }
}
