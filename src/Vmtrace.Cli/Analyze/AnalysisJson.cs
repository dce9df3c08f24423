using System.Text.Json;
using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary><c>--format json</c>: the total over the range, every window, and the counters; times in ns.</summary>
internal static class AnalysisJson
{
    public static void Write(TextWriter o, AnalysisReport r)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("trace", r.Trace);
            j.WriteString("host", r.Host);
            if (r.Inventory is not null)
                j.WriteString("inventory", r.Inventory);
            j.WriteNumber("events", r.Events);
            j.WriteNumber("first_event_ns", r.FirstNs);
            j.WriteNumber("last_event_ns", r.LastNs);
            j.WriteNumber("window_ns", r.WindowNs);
            if (r.InCycles)
                j.WriteString("time_unit", "tsc_cycles");
            j.WriteStartObject("counters");
            j.WriteNumber("inferred_switches", r.Counters.InferredSwitches);
            j.WriteNumber("lost_exits", r.Counters.LostExits);
            j.WriteNumber("unfinished_exits", r.Counters.UnfinishedExits);
            j.WriteNumber("out_of_order_events", r.Counters.OutOfOrderEvents);
            j.WriteNumber("loss_reports", r.Counters.LossReports + r.Diagnostics.LossReports);
            j.WriteNumber("lost_events", r.Diagnostics.LostEvents);
            j.WriteNumber("decode_errors", r.Diagnostics.ErrorCount);
            j.WriteNumber("unmatched_completions", r.Counters.UnmatchedCompletions);
            j.WriteNumber("kvm_events_without_thread", r.Counters.KvmEventsWithoutThread);
            j.WriteNumber("unattributed_qemu_disk_events", r.Counters.UnattributedQemuDiskEvents);
            j.WriteNumber("events_without_tid", r.Counters.EventsWithoutTid);
            j.WriteNumber("block_issues_without_thread", r.Counters.BlockIssuesWithoutThread);
            j.WriteNumber("net_events_without_thread", r.Counters.NetEventsWithoutThread);
            j.WriteNumber("time_jumps", r.Counters.TimeJumps);
            j.WriteNumber("time_jump_ns", r.Counters.TimeJumpNs);
            j.WriteEndObject();
            j.WriteStartArray("notes");
            foreach (var note in AnalysisNotes.Of(r.Counters))
                j.WriteStringValue(note);
            j.WriteEndArray();
            j.WritePropertyName("total");
            Window(j, r.Total);
            j.WriteStartArray("windows");
            foreach (var w in r.Windows)
                Window(j, w);
            j.WriteEndArray();
            j.WriteEndObject();
        }
        o.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        o.WriteLine();
    }

    private static void Window(Utf8JsonWriter j, WindowMetrics w)
    {
        j.WriteStartObject();
        j.WriteNumber("start_ns", w.StartNs);
        j.WriteNumber("end_ns", w.EndNs);
        j.WriteNumber("pcpus", w.CpuCount);
        j.WriteStartArray("vms");
        foreach (var vm in w.Vms)
        {
            j.WriteStartObject();
            j.WriteString("vm", vm.Vm);
            j.WriteNumber("pid", vm.Pid);
            j.WriteString("identity", vm.Identity);
            j.WriteString("origin", vm.Origin);
            j.WriteNumber("threads_cpu_ns", vm.ThreadsOnCpuNs);
            j.WriteNumber("pcpu_share", vm.PcpuShare);
            j.WriteNumber("active_vcpus", vm.ActiveVcpus);
            j.WritePropertyName("vcpu_times");
            Times(j, vm.VcpuTimes);
            j.WriteStartArray("vcpus");
            foreach (var v in vm.Vcpus)
            {
                j.WriteStartObject();
                j.WriteNumber("vcpu", v.VcpuId);
                j.WriteNumber("tid", v.Tid);
                j.WritePropertyName("times");
                Times(j, v.Times);
                Exits(j, v.Exits);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            Exits(j, vm.Exits);
            j.WritePropertyName("qemu_disk");
            Disk(j, vm.QemuDisk);
            j.WritePropertyName("block_disk");
            Disk(j, vm.BlockDisk);
            var n = vm.Network;
            j.WriteStartObject("network");
            j.WriteNumber("rx_packets", n.RxPackets);
            j.WriteNumber("rx_bytes", n.RxBytes);
            j.WriteNumber("tx_packets", n.TxPackets);
            j.WriteNumber("tx_bytes", n.TxBytes);
            j.WriteNumber("vhost_busy_ns", n.VhostBusyNs);
            j.WriteNumber("vhost_wait_ns", n.VhostWaitNs);
            j.WriteEndObject();
            j.WriteStartArray("preempted_by");
            foreach (var i in vm.Interferers)
            {
                j.WriteStartObject();
                j.WriteString("culprit", i.Culprit);
                j.WriteNumber("preempted_ns", i.PreemptedNs);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteEndObject();
    }

    private static void Times(Utf8JsonWriter j, CpuTimes t)
    {
        j.WriteStartObject();
        j.WriteNumber("guest_ns", t.GuestNs);
        j.WriteNumber("host_ns", t.HostNs);
        j.WriteNumber("preempted_ns", t.PreemptedNs);
        j.WriteNumber("wait_ns", t.WaitNs);
        j.WriteNumber("blocked_ns", t.BlockedNs);
        j.WriteNumber("blocked_queued_ns", t.BlockedQueuedNs);
        j.WriteEndObject();
    }

    private static void Exits(Utf8JsonWriter j, IReadOnlyList<ExitMetrics> exits)
    {
        j.WriteStartArray("exits");
        foreach (var x in exits)
        {
            j.WriteStartObject();
            j.WriteNumber("reason", x.Reason);
            if (ExitReasons.Tag(x.Isa) is { } isa)
                j.WriteString("isa", isa);
            if (x.Name is { } name)
                j.WriteString("name", name);
            Latency(j, x.Latency);
            j.WriteEndObject();
        }
        j.WriteEndArray();
    }

    private static void Latency(Utf8JsonWriter j, LatencyMetrics l)
    {
        j.WriteNumber("count", l.Count);
        j.WriteNumber("latency_sum_ns", l.SumNs);
        j.WriteNumber("latency_min_ns", l.MinNs);
        j.WriteNumber("latency_max_ns", l.MaxNs);
        j.WriteNumber("latency_p50_ns", l.P50Ns);
        j.WriteNumber("latency_p95_ns", l.P95Ns);
        j.WriteNumber("latency_p99_ns", l.P99Ns);
    }

    private static void Disk(Utf8JsonWriter j, DiskLayerMetrics d)
    {
        j.WriteStartObject();
        j.WriteNumber("submitted", d.Submitted);
        j.WriteNumber("completed", d.Completed);
        j.WriteNumber("read_requests", d.ReadRequests);
        j.WriteNumber("write_requests", d.WriteRequests);
        j.WriteNumber("read_bytes", d.ReadBytes);
        j.WriteNumber("write_bytes", d.WriteBytes);
        j.WriteNumber("in_flight", d.InFlight);
        j.WriteNumber("max_in_flight", d.MaxInFlight);
        j.WriteNumber("submit_interval_mean_ns", d.SubmitIntervals.MeanNs);
        j.WriteNumber("submit_interval_variance_ns2", d.SubmitIntervals.VarianceNs2);
        j.WriteNumber("complete_interval_mean_ns", d.CompleteIntervals.MeanNs);
        j.WriteNumber("complete_interval_variance_ns2", d.CompleteIntervals.VarianceNs2);
        j.WriteStartObject("latency");
        Latency(j, d.Latency);
        j.WriteEndObject();
        j.WriteEndObject();
    }
}
