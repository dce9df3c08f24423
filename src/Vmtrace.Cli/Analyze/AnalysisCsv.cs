using System.Globalization;
using System.Text;
using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary><c>--format csv</c>: one row per window and VM (RFC 4180 quoting); times in ns, the same figures as the JSON.</summary>
internal static class AnalysisCsv
{
    private static readonly string[] Columns =
    [
        "window_start_ns", "window_end_ns", "host", "vm", "pid", "active_vcpus", "threads_cpu_ns", "pcpu_share",
        "guest_ns", "host_ns", "preempted_ns", "wait_ns", "blocked_ns", "blocked_queued_ns", "exits", "exit_latency_sum_ns",
        "qemu_disk_submitted", "qemu_disk_completed", "qemu_disk_latency_sum_ns", "qemu_disk_in_flight",
        "block_submitted", "block_completed", "block_read_bytes", "block_write_bytes", "block_latency_sum_ns", "block_in_flight",
        "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "top_culprit", "top_culprit_preempted_ns", "identity",
    ];

    public static void Write(TextWriter o, AnalysisReport r)
    {
        o.WriteLine(string.Join(',', Columns));
        var row = new List<string>(Columns.Length);
        foreach (var w in r.Windows)
        {
            foreach (var vm in w.Vms)
            {
                row.Clear();
                var t = vm.VcpuTimes;
                var culprit = vm.Interferers.FirstOrDefault(i => i.Culprit != MetricsMerge.Other);
                Add(row, w.StartNs, w.EndNs);
                row.Add(Quote(r.Host));
                row.Add(Quote(vm.Vm));
                Add(row, vm.Pid, vm.ActiveVcpus, vm.ThreadsOnCpuNs);
                row.Add(vm.PcpuShare.ToString("R", CultureInfo.InvariantCulture));
                Add(row, t.GuestNs, t.HostNs, t.PreemptedNs, t.WaitNs, t.BlockedNs, t.BlockedQueuedNs, vm.ExitCount, vm.Exits.Sum(x => x.Latency.SumNs));
                Add(row, vm.QemuDisk.Submitted, vm.QemuDisk.Completed, vm.QemuDisk.Latency.SumNs, vm.QemuDisk.InFlight);
                Add(row, vm.BlockDisk.Submitted, vm.BlockDisk.Completed, vm.BlockDisk.ReadBytes, vm.BlockDisk.WriteBytes, vm.BlockDisk.Latency.SumNs, vm.BlockDisk.InFlight);
                Add(row, vm.Network.RxPackets, vm.Network.RxBytes, vm.Network.TxPackets, vm.Network.TxBytes);
                row.Add(Quote(culprit?.Culprit ?? ""));
                Add(row, culprit?.PreemptedNs ?? 0);
                row.Add(Quote(vm.Identity));
                o.WriteLine(string.Join(',', row));
            }
        }
    }

    private static void Add(List<string> row, params long[] values)
    {
        foreach (long v in values)
            row.Add(v.ToString(CultureInfo.InvariantCulture));
    }

    internal static string Quote(string s)
    {
        if (s.IndexOfAny([',', '"', '\n', '\r']) < 0)
            return s;
        var sb = new StringBuilder("\"");
        sb.Append(s.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        return sb.ToString();
    }
}
