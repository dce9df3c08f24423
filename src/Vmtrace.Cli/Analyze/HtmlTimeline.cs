using System.Globalization;
using System.Text;
using Vmtrace.Analysis;
using static Vmtrace.Cli.HtmlSvg;

namespace Vmtrace.Cli;

/// <summary>
/// The per-VM resource timeline of the HTML report: for every VM five rows on one time axis, CPU (the vCPU
/// states of each window stacked and coloured), disk (completed requests, read / write), network (bytes
/// received / sent), its workload class in each window and its interference episodes (a band from start to end,
/// coloured by severity). One column per window; every rectangle has a tooltip with the figures.
/// </summary>
internal static class HtmlTimeline
{
    private const double Left = 170, PlotWidth = 1000, CpuHeight = 40, IoHeight = 22, BandHeight = 10, Gap = 10;

    /// <summary>The workload classes' colours (their band's opacity says the confidence).</summary>
    public static readonly (string Name, string Colour)[] WorkloadColours =
    [
        (WorkloadClasses.Idle, "#c8c8c8"), (WorkloadClasses.Cpu, "#2ca02c"), (WorkloadClasses.Disk, "#9467bd"),
        (WorkloadClasses.Net, "#bcbd22"), (WorkloadClasses.Mixed, "#8c564b"),
    ];

    /// <summary>An episode's colour by severity (the fraction of the wanted time lost): the Grafana tables' steps.</summary>
    public static readonly (string Name, double From, string Colour)[] SeverityColours =
    [
        ("episode, severity < 0.1", 0, "#fade2a"), ("0.1 – 0.3", 0.1, "#ff9830"), ("≥ 0.3", 0.3, "#f2495c"),
    ];

    public static string WorkloadColour(string workloadClass)
    {
        foreach (var (name, colour) in WorkloadColours)
        {
            if (name == workloadClass)
                return colour;
        }
        return "#8c8c8c";
    }

    public static string SeverityColour(double severity) => SeverityColours.Last(c => severity >= c.From).Colour;

    public static string Svg(AnalysisReport r)
    {
        var vms = r.Total.Vms;
        var windows = r.Windows;
        long t0 = windows.Count > 0 ? windows.Min(w => w.StartNs) : r.Total.StartNs;
        long t1 = windows.Count > 0 ? windows.Max(w => w.EndNs) : r.Total.EndNs;
        double span = Math.Max(1, t1 - t0);
        double X(long ns) => Left + (ns - t0) / span * PlotWidth;

        var block = vms.ToDictionary(v => v.Vm, UsesBlockLayer);
        long maxDisk = 1, maxNet = 1;
        foreach (var w in windows)
            foreach (var v in w.Vms)
            {
                maxDisk = Math.Max(maxDisk, Disk(v, block.GetValueOrDefault(v.Vm)).Completed);
                maxNet = Math.Max(maxNet, v.Network.RxBytes + v.Network.TxBytes);
            }

        double rowBlock = CpuHeight + IoHeight * 2 + BandHeight * 2 + Gap * 2;
        var model = WorkloadModel.Shipped;
        double height = 30 + vms.Count * rowBlock + 10;
        var sb = new StringBuilder();
        sb.Append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(N(Left + PlotWidth + 20))
          .Append("\" height=\"").Append(N(height)).Append("\">");

        // time axis (seconds from the first window start)
        foreach (double s in Ticks(span / 1e9))
        {
            double x = Left + s * 1e9 / span * PlotWidth;
            sb.Append("<line x1=\"").Append(N(x)).Append("\" x2=\"").Append(N(x)).Append("\" y1=\"18\" y2=\"").Append(N(height - 10))
              .Append("\" stroke=\"#eee\"/>");
            Text(sb, x, 14, N(s) + r.AxisUnit, " text-anchor=\"middle\" class=\"tick\"");
        }

        for (int i = 0; i < vms.Count; i++)
        {
            var vm = vms[i];
            double y = 30 + i * rowBlock;
            int vcpus = Math.Max(1, vm.Vcpus.Count);
            sb.Append("<g class=\"vm-row\" data-vm=\"").Append(E(vm.Vm)).Append("\">");
            Text(sb, 4, y + 16, vm.Vm, $" class=\"vm-label\" fill=\"{VmColour(i)}\"");
            Text(sb, 4, y + 32, $"CPU ({vm.Vcpus.Count} vCPU)", " class=\"row-label\"");
            Text(sb, 4, y + CpuHeight + IoHeight - 6, "disk", " class=\"row-label\"");
            Text(sb, 4, y + CpuHeight + IoHeight * 2 - 6, "network", " class=\"row-label\"");
            double wy = y + CpuHeight + IoHeight * 2, ey = wy + BandHeight;
            Text(sb, 4, wy + BandHeight - 1, "workload", " class=\"row-label\"");
            Text(sb, 4, ey + BandHeight - 1, "episodes", " class=\"row-label\"");
            sb.Append("<rect x=\"").Append(N(Left)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(PlotWidth))
              .Append("\" height=\"").Append(N(CpuHeight + IoHeight * 2 + BandHeight * 2)).Append("\" fill=\"none\" stroke=\"#ccc\"/>");

            foreach (var w in windows)
            {
                var v = w.Vms.FirstOrDefault(m => m.Vm == vm.Vm);
                if (v is null)
                    continue;
                double x = X(w.StartNs), width = X(w.EndNs) - x;
                string when = $"{r.Time(w.StartNs)} .. {r.Time(w.EndNs)}";

                // CPU: states stacked from the bottom, as fractions of (window × vCPUs)
                double capacity = (double)w.LengthNs * vcpus;
                var t = v.VcpuTimes;
                long[] parts = [t.GuestNs, t.HostNs, t.PreemptedNs, t.WaitNs, t.BlockedNs];
                double bottom = y + CpuHeight;
                for (int s = 0; s < parts.Length; s++)
                {
                    double h = capacity <= 0 ? 0 : Math.Min(1, parts[s] / capacity) * CpuHeight;
                    bottom -= h;
                    Rect(sb, x, bottom, width, h, States[s].Colour,
                        $"{vm.Vm} {States[s].Name}: {r.Duration(parts[s])} ({Units.Percent(parts[s] / Math.Max(1, capacity))} of {vcpus} vCPU) {when}");
                }

                // disk (one layer: block if the VM has any, else qemu): completed requests, reads at the bottom,
                // writes above, unknown direction on top
                double dy = y + CpuHeight + IoHeight;
                var d = Disk(v, block[vm.Vm]);
                long completed = d.Completed;
                if (completed > 0)
                {
                    long reads = d.ReadRequests, writes = d.WriteRequests;
                    long other = Math.Max(0, completed - reads - writes);
                    string tip = $"{vm.Vm} disk ({(block[vm.Vm] ? "block" : "qemu")} layer): {Units.Count(completed)} requests ({Units.Count(reads)} read, {Units.Count(writes)} write), " +
                                 $"{Units.Bytes(d.ReadBytes)} read, {Units.Bytes(d.WriteBytes)} written, p95 {r.Duration(d.Latency.P95Ns)} {when}";
                    double scale = (IoHeight - 2) / (double)maxDisk;
                    double b = dy;
                    foreach (var (n, colour) in new[] { (reads, "#17becf"), (writes, "#9467bd"), (other, "#8c8c8c") })
                    {
                        double h = n * scale;
                        b -= h;
                        Rect(sb, x, b, width, h, colour, tip);
                    }
                }

                // network: bytes received (into the VM) at the bottom, sent above
                double ny = y + CpuHeight + IoHeight * 2;
                var net = v.Network;
                if (net.RxBytes + net.TxBytes > 0)
                {
                    string tip = $"{vm.Vm} network: received {Units.Bytes(net.RxBytes)} ({Units.Count(net.RxPackets)} packets), " +
                                 $"sent {Units.Bytes(net.TxBytes)} ({Units.Count(net.TxPackets)} packets) {when}";
                    double scale = (IoHeight - 2) / (double)maxNet;
                    Rect(sb, x, ny - net.RxBytes * scale, width, net.RxBytes * scale, "#bcbd22", tip);
                    Rect(sb, x, ny - (net.RxBytes + net.TxBytes) * scale, width, net.TxBytes * scale, "#e377c2", tip);
                }

                // workload class: one cell per window, its colour the class, its opacity the confidence
                var c = model.Classify(w, v);
                string cellColour = WorkloadColour(c.Class);
                sb.Append("<rect class=\"workload\" data-class=\"").Append(E(c.Class)).Append("\" data-start-ns=\"").Append(w.StartNs)
                  .Append("\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(wy + 1)).Append("\" width=\"").Append(N(Math.Max(width, 0.5)))
                  .Append("\" height=\"").Append(N(BandHeight - 2)).Append("\" fill=\"").Append(cellColour).Append("\" fill-opacity=\"")
                  .Append(N(0.3 + (0.7 * Math.Clamp(c.Confidence, 0, 1)))).Append("\"><title>")
                  .Append(E($"{vm.Vm} workload: {c.Class} (confidence {c.Confidence.ToString("0.00", CultureInfo.InvariantCulture)}) {when}"))
                  .Append("</title></rect>");
            }
            Episodes(sb, r, vm.Vm, X, t0, t1, ey);
            ExitRate(sb, vm.Vm, windows, X, y);
            sb.Append("<line x1=\"").Append(N(Left)).Append("\" x2=\"").Append(N(Left + PlotWidth)).Append("\" y1=\"").Append(N(y + CpuHeight))
              .Append("\" y2=\"").Append(N(y + CpuHeight)).Append("\" stroke=\"#999\"/>");
            sb.Append("<line x1=\"").Append(N(Left)).Append("\" x2=\"").Append(N(Left + PlotWidth)).Append("\" y1=\"").Append(N(y + CpuHeight + IoHeight))
              .Append("\" y2=\"").Append(N(y + CpuHeight + IoHeight)).Append("\" stroke=\"#ddd\"/>");
            sb.Append("</g>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>
    /// The VM's interference episodes as bands from start to end, coloured by severity; the tooltip gives the resource,
    /// severity, culprits with their shares and the advice.
    /// </summary>
    private static void Episodes(StringBuilder sb, AnalysisReport r, string vm, Func<long, double> x, long t0, long t1, double y)
    {
        foreach (var e in r.Episodes.Where(e => e.Vm == vm).OrderBy(e => e.StartNs))
        {
            double from = x(Math.Clamp(e.StartNs, t0, t1)), to = x(Math.Clamp(e.EndNs, t0, t1));
            string culprits = e.Culprits.Count == 0 ? "no culprit named"
                : string.Join(", ", e.Culprits.Select(c => $"{c.Name} ({c.Kind}) {Units.Percent(c.Share)}"));
            string severity = e.Severity.ToString("0.00", CultureInfo.InvariantCulture);
            sb.Append("<rect class=\"episode\" data-resource=\"").Append(E(e.Resource)).Append("\" data-start-ns=\"").Append(e.StartNs)
              .Append("\" data-end-ns=\"").Append(e.EndNs).Append("\" data-severity=\"").Append(e.Severity.ToString("R", CultureInfo.InvariantCulture))
              .Append("\" x=\"").Append(N(from)).Append("\" y=\"").Append(N(y + 1)).Append("\" width=\"").Append(N(Math.Max(to - from, 1)))
              .Append("\" height=\"").Append(N(BandHeight - 2)).Append("\" rx=\"2\" fill=\"").Append(SeverityColour(e.Severity)).Append("\"><title>")
              .Append(E($"{vm} {e.Resource} episode, severity {severity}: {r.Time(e.StartNs)} .. {r.Time(e.EndNs)} ({r.Duration(e.DurationNs)}); by {culprits}. {e.Advice}"))
              .Append("</title></rect>");
        }
    }

    /// <summary>
    /// Exits per second of the VM as a black line over its CPU row (scaled to the VM's own maximum): on kvm-only
    /// traces, where out-of-guest time is not counted, this is what shows the VM's activity.
    /// </summary>
    private static void ExitRate(StringBuilder sb, string vm, IReadOnlyList<WindowMetrics> windows, Func<long, double> x, double y)
    {
        var points = windows.Select(w => (w, v: w.Vms.FirstOrDefault(m => m.Vm == vm)))
            .Select(p => (Ns: p.w.StartNs + p.w.LengthNs / 2, Rate: p.v is null || p.w.LengthNs <= 0 ? 0 : p.v.ExitCount / (p.w.LengthNs / 1e9)))
            .ToList();
        double max = points.Count == 0 ? 0 : points.Max(p => p.Rate);
        if (max <= 0)
            return;
        sb.Append("<polyline class=\"exit-rate\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.2\" points=\"");
        foreach (var (ns, rate) in points)
            sb.Append(N(x(ns))).Append(',').Append(N(y + CpuHeight - 2 - rate / max * (CpuHeight - 4))).Append(' ');
        sb.Append("\"><title>").Append(E($"{vm} VM exits per second (max {N(max)}/s)")).Append("</title></polyline>");
    }
}
