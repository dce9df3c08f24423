using Vmtrace.Analysis;

namespace Vmtrace.InfluxDb;

/// <summary>
/// How far one host's analysis had to guess or leave things out (<see cref="AnalysisCounters"/>, counts since the
/// agent session started): a <c>pipeline_health</c> point tagged <c>component=analysis</c> and the host, in event
/// time, so the worker writes the same point again when it reprocesses the same records.
/// </summary>
public static class AnalysisHealthLineProtocol
{
    public static void Write(LineProtocolWriter w, string host, AnalysisCounters c, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(c);
        w.Begin("pipeline_health").Tag("component", "analysis").Tag("host", host)
            .Field("analysed_events", c.Events).Field("inferred_switches", c.InferredSwitches).Field("lost_exits", c.LostExits)
            .Field("unfinished_exits", c.UnfinishedExits).Field("out_of_order_events", c.OutOfOrderEvents)
            .Field("loss_reports", c.LossReports).Field("unmatched_completions", c.UnmatchedCompletions)
            .Field("kvm_events_without_thread", c.KvmEventsWithoutThread).Field("unattributed_qemu_disk_events", c.UnattributedQemuDiskEvents)
            .Field("events_without_tid", c.EventsWithoutTid).Field("block_issues_without_thread", c.BlockIssuesWithoutThread)
            .Field("net_events_without_thread", c.NetEventsWithoutThread)
            .End(timestamp);
    }
}
