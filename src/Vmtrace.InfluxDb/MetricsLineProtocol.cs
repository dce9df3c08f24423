using System.Globalization;
using System.Text;
using Vmtrace.Analysis;

namespace Vmtrace.InfluxDb;

/// <summary>
/// The points vmtrace writes for one closed window (docs/schema.md): the same text from
/// <c>vmtrace analyze --format line-protocol</c> and from the worker's InfluxDB sink. Timestamp = window start.
/// Tags are bounded: host, vm, vcpu, reason (exit reason number), layer (qemu|block), culprit (top N per VM). Names
/// (host, vm, culprit) are written with <see cref="LineProtocolWriter.NameTag"/>: whatever a trace calls a VM or thread,
/// every point is stored in its own series.
/// </summary>
public static class MetricsLineProtocol
{
    public static void Write(LineProtocolWriter w, WindowMetrics window, string host)
    {
        long ts = window.StartNs;
        foreach (var vm in window.Vms)
        {
            var t = vm.VcpuTimes;
            w.Begin("vmtrace_vm").NameTag("host", host).NameTag("vm", vm.Vm)
                .Field("window_ns", window.LengthNs)
                .Field("threads_cpu_ns", vm.ThreadsOnCpuNs).Field("pcpu_share", vm.PcpuShare)
                .Field("active_vcpus", (long)vm.ActiveVcpus)
                .Field("guest_ns", t.GuestNs).Field("host_ns", t.HostNs).Field("preempted_ns", t.PreemptedNs)
                .Field("wait_ns", t.WaitNs).Field("blocked_ns", t.BlockedNs).Field("blocked_queued_ns", t.BlockedQueuedNs)
                .Field("exits", vm.ExitCount)
                .Field("identity", vm.Identity)
                .End(ts);
            foreach (var v in vm.Vcpus)
            {
                w.Begin("vmtrace_vcpu").NameTag("host", host).NameTag("vm", vm.Vm).Tag("vcpu", Int(v.VcpuId))
                    .Field("tid", (long)v.Tid)
                    .Field("guest_ns", v.Times.GuestNs).Field("host_ns", v.Times.HostNs).Field("preempted_ns", v.Times.PreemptedNs)
                    .Field("wait_ns", v.Times.WaitNs).Field("blocked_ns", v.Times.BlockedNs).Field("blocked_queued_ns", v.Times.BlockedQueuedNs)
                    .Field("exits", v.Exits.Sum(x => x.Latency.Count))
                    .End(ts);
            }
            foreach (var x in vm.Exits)
            {
                // isa and reason_name only when the trace says which ISA it is (a null tag is left out).
                w.Begin("vmtrace_exit").NameTag("host", host).NameTag("vm", vm.Vm).Tag("reason", Int(x.Reason))
                    .Tag("isa", ExitReasons.Tag(x.Isa)).Tag("reason_name", x.Name);
                Latency(w, x.Latency, "count", "latency_");
                w.End(ts);
            }
            Disk(w, host, vm.Vm, "qemu", vm.QemuDisk, ts);
            Disk(w, host, vm.Vm, "block", vm.BlockDisk, ts);
            if (!vm.Network.IsEmpty)
            {
                var n = vm.Network;
                w.Begin("vmtrace_net").NameTag("host", host).NameTag("vm", vm.Vm)
                    .Field("rx_packets", n.RxPackets).Field("rx_bytes", n.RxBytes)
                    .Field("tx_packets", n.TxPackets).Field("tx_bytes", n.TxBytes)
                    .Field("vhost_busy_ns", n.VhostBusyNs).Field("vhost_wait_ns", n.VhostWaitNs)
                    .End(ts);
            }
            foreach (var i in vm.Interferers)
            {
                w.Begin("vmtrace_interference").NameTag("host", host).NameTag("vm", vm.Vm).NameTag("culprit", i.Culprit)
                    .Field("preempted_ns", i.PreemptedNs).End(ts);
            }
        }
    }

    public static string Format(WindowMetrics window, string host)
    {
        var sb = new StringBuilder();
        Write(new LineProtocolWriter(sb), window, host);
        return sb.ToString();
    }

    private static void Disk(LineProtocolWriter w, string host, string vm, string layer, DiskLayerMetrics d, long ts)
    {
        if (d.IsEmpty)
            return;
        w.Begin("vmtrace_disk").NameTag("host", host).NameTag("vm", vm).Tag("layer", layer)
            .Field("submitted", d.Submitted).Field("completed", d.Completed)
            .Field("read_requests", d.ReadRequests).Field("write_requests", d.WriteRequests)
            .Field("read_bytes", d.ReadBytes).Field("write_bytes", d.WriteBytes)
            .Field("in_flight", d.InFlight).Field("max_in_flight", d.MaxInFlight)
            .Field("submit_interval_mean_ns", d.SubmitIntervals.MeanNs).Field("submit_interval_var_ns2", d.SubmitIntervals.VarianceNs2)
            .Field("complete_interval_mean_ns", d.CompleteIntervals.MeanNs).Field("complete_interval_var_ns2", d.CompleteIntervals.VarianceNs2);
        Latency(w, d.Latency, "latency_count", "latency_");
        w.End(ts);
    }

    private static void Latency(LineProtocolWriter w, LatencyMetrics l, string countKey, string prefix)
    {
        w.Field(countKey, l.Count).Field(prefix + "sum_ns", l.SumNs).Field(prefix + "min_ns", l.MinNs).Field(prefix + "max_ns", l.MaxNs)
            .Field(prefix + "p50_ns", l.P50Ns).Field(prefix + "p95_ns", l.P95Ns).Field(prefix + "p99_ns", l.P99Ns);
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
}
