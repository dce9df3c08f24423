using System.Globalization;
using System.Text;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>Every figure of a window as text (histogram buckets included), so two runs compare exactly.</summary>
internal static class WindowText
{
    public static string Of(IEnumerable<WindowMetrics> windows)
    {
        var sb = new StringBuilder();
        foreach (var w in windows)
            Append(sb, w);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, WindowMetrics w)
    {
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"window {w.StartNs} {w.EndNs} cpus={w.CpuCount}\n");
        foreach (var vm in w.Vms)
        {
            sb.Append(c, $" vm {vm.Vm} pid={vm.Pid} origin={vm.Origin} {vm.VcpuTimes} on={vm.ThreadsOnCpuNs} share={vm.PcpuShare:R} active={vm.ActiveVcpus} preempted={vm.PreemptedIntervals}\n");
            foreach (var v in vm.Vcpus)
            {
                sb.Append(c, $"  vcpu {v.VcpuId} tid={v.Tid} {v.Times}\n");
                if (!v.GuestModes.IsEmpty)
                    sb.Append(c, $"   guest modes {v.GuestModes}\n");
                foreach (var x in v.Exits)
                    sb.Append(c, $"   exit {x.Reason} {Latency(x.Latency)}\n");
            }
            foreach (var x in vm.Exits)
                sb.Append(c, $"  exit {x.Reason} {Latency(x.Latency)}\n");
            sb.Append(c, $"  qemu {Disk(vm.QemuDisk)}\n  block {Disk(vm.BlockDisk)}\n  net {vm.Network}\n");
            foreach (var i in vm.Interferers)
                sb.Append(c, $"  interferer {i.Culprit} {i.PreemptedNs}\n");
            foreach (var g in vm.GuestSpaces)
                sb.Append(c, $"  space {g.Cr3} {g.GuestNs}\n");
            foreach (var g in vm.Nested)
            {
                foreach (var v in g.Vcpus)
                    sb.Append(c, $"  nested {g.L2} {v}\n");
            }
        }
    }

    private static string Disk(DiskLayerMetrics d) => string.Create(CultureInfo.InvariantCulture,
        $"{d.Submitted} {d.Completed} {d.ReadRequests} {d.WriteRequests} {d.ReadBytes} {d.WriteBytes} {Latency(d.Latency)} {d.SubmitIntervals} {d.CompleteIntervals} {d.InFlight} {d.MaxInFlight}");

    private static string Latency(LatencyMetrics l)
    {
        var counts = l.Histogram.Counts;
        var buckets = new StringBuilder();
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
                buckets.Append(CultureInfo.InvariantCulture, $"{i}:{counts[i]},");
        }
        return string.Create(CultureInfo.InvariantCulture, $"n={l.Count} sum={l.SumNs} sq={l.SumSquaresNs2} min={l.MinNs} max={l.MaxNs} h=[{buckets}]");
    }
}
