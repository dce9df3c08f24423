using System.Globalization;
using System.Text;
using Vmtrace.Analysis;
using static Vmtrace.Cli.HtmlSvg;

namespace Vmtrace.Cli;

/// <summary>
/// <c>vmtrace analyze --html FILE</c>: one self-contained HTML page (inline CSS and SVG, no script, no fetch) with
/// the per-VM resource timeline (with workload classes and interference episodes), the VMs' dominant workload, the vCPU
/// time split, the interference episodes, exits by reason with latency, disk and network charts, and the interference
/// matrix (VM × culprit).
/// </summary>
internal static class HtmlReport
{
    private const int TopExitReasons = 10;

    private const string Style = """
        body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd}
        .meta{color:#555}.tick{font-size:10px;fill:#666}.vm-label{font-weight:600;font-size:13px}.row-label{font-size:10px;fill:#555}
        table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
        th{background:#f4f4f4}td.l,th.l{text-align:left}.legend span{margin-right:12px;white-space:nowrap}
        .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
        .charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0}.chart figcaption{font-weight:600}
        .empty{color:#888;font-style:italic}
        """;

    public static void WriteFile(string path, AnalysisReport r)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        Write(w, r);
    }

    public static void Write(TextWriter o, AnalysisReport r)
    {
        var total = r.Total;
        long t0 = r.Windows.Count > 0 ? r.Windows.Min(x => x.StartNs) : total.StartNs;
        long t1 = r.Windows.Count > 0 ? r.Windows.Max(x => x.EndNs) : total.EndNs;
        double seconds = Math.Max(1e-9, (t1 - t0) / 1e9);
        o.WriteLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        o.WriteLine($"<title>vmtrace: {E(r.Host)}</title><style>{Style}</style></head><body>");
        o.WriteLine($"<h1>vmtrace report: host {E(r.Host)}</h1>");
        o.WriteLine($"<div class=\"meta\">trace {E(r.Trace)}<br>{Units.Count(r.Events)} events, {r.Time(t0)} .. {r.Time(t1)} " +
                    $"({r.Duration(t1 - t0)}), {r.Windows.Count} windows × {r.Duration(r.WindowNs)}, {total.CpuCount} pCPUs, {total.Vms.Count} VMs<br>" +
                    $"inferred switches {Units.Count(r.Counters.InferredSwitches)}, lost kvm_exit {Units.Count(r.Counters.LostExits)}, " +
                    $"lost events {Units.Count(r.Diagnostics.LostEvents)}, decode errors {Units.Count(r.Diagnostics.ErrorCount)}" +
                    (r.Counters.TimeJumps > 0 ? $", time jumps {Units.Count(r.Counters.TimeJumps)} ({r.Duration(r.Counters.TimeJumpNs)} not analysed)" : "") +
                    string.Concat(AnalysisNotes.Of(r.Counters).Select(n => $"<br>note: {E(n)}")) + "</div>");
        if (r.InCycles)
            o.WriteLine($"<p class=\"empty\">{E(r.CyclesNotice)}; rates are per 10⁹ cycles</p>");

        if (total.Vms.Count == 0)
        {
            o.WriteLine("<p class=\"empty\">no VM found in this trace</p>");
            WriteGuests(o, r);
            o.WriteLine("</body></html>");
            return;
        }

        o.WriteLine("<h2>Resource timeline</h2>");
        o.WriteLine(Legend(States.Concat([("disk read", "#17becf"), ("disk write", "#9467bd"), ("disk (direction unknown)", "#8c8c8c"),
            ("net received", "#bcbd22"), ("net sent", "#e377c2"), ("VM exits per second (line)", "#222")])));
        o.WriteLine(Legend(HtmlTimeline.WorkloadColours.Select(c => ($"workload {c.Name}", c.Colour))
            .Concat(HtmlTimeline.SeverityColours.Select(c => (c.Name, c.Colour)))));
        o.WriteLine(HtmlTimeline.Svg(r));

        WriteCpuSplit(o, r, total);
        WriteEpisodes(o, r);
        WriteWaitCauses(o, r, total);
        WriteExits(o, r, t0, t1, seconds);
        WriteDisk(o, r, t0, t1, seconds);
        WriteNetwork(o, r, t0, t1);
        WriteInterference(o, r, total);
        WriteGuests(o, r);
        o.WriteLine("</body></html>");
    }

    /// <summary>With --guest: per guest thread, its run time by what its vCPU's host thread did, and who preempted it.</summary>
    private static void WriteGuests(TextWriter o, AnalysisReport r)
    {
        foreach (var (trace, g) in r.Guests ?? [])
        {
            o.WriteLine($"<h2>Guest {E(g.Name)}</h2>");
            o.WriteLine($"<div class=\"meta\">trace {E(trace)}; " + (g.Vm is { } vm ? $"VM {E(vm)}" : "no vCPU thread of it found in the host trace") + "</div>");
            if (g.Threads.Count == 0)
            {
                o.WriteLine("<p class=\"empty\">no guest thread ran</p>");
                continue;
            }
            o.WriteLine("<table><tr><th>tid</th><th class=\"l\">comm</th><th>run</th><th>in guest</th><th>hypervisor</th><th>preempted</th><th>unknown</th><th class=\"l\">lost to host preemption</th></tr>");
            foreach (var t in g.Threads)
            {
                string lost = t.PreemptedNs == 0 ? "" : $"{Units.Percent((double)t.PreemptedNs / t.RunNs)} by "
                    + string.Join(", ", t.PreemptedBy.Select(p => $"{p.Culprit} ({r.Duration(p.Ns)})"));
                o.WriteLine($"<tr><td>{t.Tid}</td><td class=\"l\">{E(t.Comm)}</td><td>{r.Duration(t.RunNs)}</td><td>{r.Duration(t.InGuestNs)}</td>"
                    + $"<td>{r.Duration(t.HypervisorNs)}</td><td>{r.Duration(t.PreemptedNs)}</td><td>{r.Duration(t.UnknownNs)}</td><td class=\"l\">{E(lost)}</td></tr>");
            }
            o.WriteLine("</table>");
        }
    }

    private static void WriteCpuSplit(TextWriter o, AnalysisReport r, WindowMetrics total)
    {
        o.WriteLine("<h2>VMs</h2><ul>");
        var dominant = WorkloadSummary.Dominant(r.Windows, WorkloadModel.Shipped);
        foreach (var vm in total.Vms)
        {
            string warning = vm.Identity == VmIdentity.Guess ? " <b>(warning: a guess)</b>" : "";
            string workload = dominant.TryGetValue(vm.Vm, out var d)
                ? $"; workload <span class=\"workload-class\" data-vm=\"{E(vm.Vm)}\">{E(d.Class)}</span> in {Units.Percent(d.Confidence)} of its windows" : "";
            o.WriteLine($"<li>{E(vm.Vm)}: identity {E(vm.Identity)}{warning}, {E(vm.Origin)}{workload}</li>");
        }
        o.WriteLine("</ul>");
        o.WriteLine("<h2>vCPU time split</h2>");
        o.WriteLine(Legend(States));
        o.WriteLine("<table><tr><th class=\"l\">VM</th><th class=\"l\">vCPU</th><th>tid</th><th class=\"l\">split</th>" +
                    string.Concat(States.Select(s => $"<th>{s.Name}</th>")) + "<th>pCPU share</th><th>exits</th></tr>");
        foreach (var vm in total.Vms)
        {
            o.WriteLine(Row(vm.Vm, "all", "", vm.VcpuTimes, Units.Percent(vm.PcpuShare), vm.ExitCount));
            foreach (var v in vm.Vcpus)
                o.WriteLine(Row("", v.VcpuId.ToString(CultureInfo.InvariantCulture), v.Tid.ToString(CultureInfo.InvariantCulture), v.Times, "", v.Exits.Sum(x => x.Latency.Count)));
        }
        o.WriteLine("</table>");

        string Row(string vm, string vcpu, string tid, CpuTimes t, string share, long exits)
        {
            long[] parts = [t.GuestNs, t.HostNs, t.PreemptedNs, t.WaitNs, t.BlockedNs];
            double sum = Math.Max(1, parts.Sum());
            var bar = new StringBuilder("<svg width=\"300\" height=\"12\">");
            double x = 0;
            for (int i = 0; i < parts.Length; i++)
            {
                double w = parts[i] / sum * 300;
                Rect(bar, x, 0, w, 12, States[i].Colour, $"{States[i].Name} {r.Duration(parts[i])}");
                x += w;
            }
            bar.Append("</svg>");
            return $"<tr><td class=\"l\">{E(vm)}</td><td class=\"l\">{vcpu}</td><td>{tid}</td><td class=\"l\">{bar}</td>" +
                   string.Concat(parts.Select(p => $"<td>{r.Duration(p)}</td>")) + $"<td>{share}</td><td>{Units.Count(exits)}</td></tr>";
        }
    }

    /// <summary>The interference episodes, worst first: who lost what, when, to whom, and what to do.</summary>
    private static void WriteEpisodes(TextWriter o, AnalysisReport r)
    {
        o.WriteLine("<h2>Interference episodes</h2>");
        if (r.Episodes.Count == 0)
        {
            o.WriteLine("<p class=\"empty\">none: no VM lost CPU time to others or had an exit storm</p>");
            return;
        }
        o.WriteLine("<p>Runs of windows in which a VM lost time it wanted (severity: the fraction lost), worst first; on the timeline as bands.</p>");
        o.WriteLine("<table class=\"episodes\"><tr><th class=\"l\">VM</th><th class=\"l\">resource</th><th>severity</th><th>from</th><th>to</th><th>duration</th>" +
                    "<th class=\"l\">culprits</th><th class=\"l\">advice</th></tr>");
        foreach (var e in r.EpisodesWorstFirst)
        {
            string culprits = e.Culprits.Count == 0 ? "no culprit named"
                : string.Join(", ", e.Culprits.Select(c => $"{c.Name} ({c.Kind}) {Units.Percent(c.Share)}"));
            o.WriteLine($"<tr><td class=\"l\">{E(e.Vm)}</td><td class=\"l\">{E(e.Resource)}</td>" +
                        $"<td style=\"background:{HtmlTimeline.SeverityColour(e.Severity)}\">{e.Severity.ToString("0.00", CultureInfo.InvariantCulture)}</td>" +
                        $"<td>{r.Time(e.StartNs)}</td><td>{r.Time(e.EndNs)}</td><td>{r.Duration(e.DurationNs)}</td><td class=\"l\">{E(culprits)}</td>" +
                        $"<td class=\"l\">{E(e.Advice)}</td></tr>");
        }
        o.WriteLine("</table>");
    }

    private static void WriteWaitCauses(TextWriter o, AnalysisReport r, WindowMetrics total)
    {
        o.WriteLine("<h2>Wait causes</h2>");
        if (total.Vms.All(v => v.WaitCauses.TotalNs == 0))
        {
            o.WriteLine("<p class=\"empty\">no blocked vCPU wait ended in this trace</p>");
            return;
        }
        o.WriteLine("<p>vCPU blocked time by what ended each wait (the root of its wake-up chain on the host)</p>");
        o.WriteLine("<table><tr><th class=\"l\">VM</th><th class=\"l\">vCPU</th><th>timer</th><th>disk</th><th>net</th><th>vcpu</th><th>host</th><th>unknown</th></tr>");
        foreach (var vm in total.Vms)
        {
            o.WriteLine(Row(vm.Vm, "all", vm.WaitCauses));
            foreach (var v in vm.Vcpus)
                o.WriteLine(Row("", v.VcpuId.ToString(CultureInfo.InvariantCulture), v.WaitCauses));
        }
        o.WriteLine("</table>");

        string Row(string vm, string vcpu, WaitCauses c) =>
            $"<tr><td class=\"l\">{E(vm)}</td><td class=\"l\">{vcpu}</td><td>{r.Duration(c.TimerNs)}</td><td>{r.Duration(c.DiskNs)}</td>" +
            $"<td>{r.Duration(c.NetNs)}</td><td>{r.Duration(c.VcpuNs)}</td><td>{r.Duration(c.HostNs)}</td><td>{r.Duration(c.UnknownNs)}</td></tr>";
    }

    private static void WriteExits(TextWriter o, AnalysisReport r, long t0, long t1, double seconds)
    {
        o.WriteLine("<h2>VM exits by reason</h2>");
        var total = r.Total;
        if (total.Vms.All(v => v.Exits.Count == 0))
        {
            o.WriteLine("<p class=\"empty\">no VM exits in this trace (no kvm_exit/kvm_entry events: e.g. QEMU under TCG)</p>");
            return;
        }
        o.WriteLine("<table><tr><th class=\"l\">VM</th><th class=\"l\">reason</th><th>count</th><th>per s</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>");
        foreach (var vm in total.Vms)
            foreach (var x in vm.Exits.OrderByDescending(x => x.Latency.Count).Take(TopExitReasons))
            {
                var l = x.Latency;
                o.WriteLine($"<tr><td class=\"l\">{E(vm.Vm)}</td><td class=\"l\">{E(x.Description)}</td><td>{Units.Count(l.Count)}</td>" +
                            $"<td>{N(l.Count / seconds)}</td><td>{r.Duration(l.MeanNs)}</td><td>{r.Duration(l.P50Ns)}</td><td>{r.Duration(l.P95Ns)}</td>" +
                            $"<td>{r.Duration(l.P99Ns)}</td><td>{r.Duration(l.MaxNs)}</td></tr>");
            }
        o.WriteLine("</table><div class=\"charts\">");
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "exits per second", t0, t1, PerVm(r, (w, v) => v.ExitCount / (w.LengthNs / 1e9)), v => N(v)));
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "exit handling latency p95", t0, t1,
            PerVm(r, (w, v) => v.Exits.Count == 0 ? 0 : v.Exits.Max(x => x.Latency.P95Ns)), v => r.Duration(v)));
        o.WriteLine("</div>");
    }

    private static void WriteDisk(TextWriter o, AnalysisReport r, long t0, long t1, double seconds)
    {
        o.WriteLine("<h2>Disk</h2>");
        var rows = r.Total.Vms.SelectMany(v => new[] { (v.Vm, Layer: "qemu", D: v.QemuDisk), (v.Vm, Layer: "block", D: v.BlockDisk) })
            .Where(x => !x.D.IsEmpty).ToList();
        if (rows.Count == 0)
        {
            o.WriteLine("<p class=\"empty\">no disk requests of any VM in this trace</p>");
            return;
        }
        o.WriteLine("<table><tr><th class=\"l\">VM</th><th class=\"l\">layer</th><th>completed</th><th>IOPS</th><th>read</th><th>written</th>" +
                    "<th>p50</th><th>p95</th><th>p99</th><th>max</th><th>max in flight</th></tr>");
        foreach (var (vm, layer, d) in rows)
            o.WriteLine($"<tr><td class=\"l\">{E(vm)}</td><td class=\"l\">{layer}</td><td>{Units.Count(d.Completed)}</td><td>{N(d.Completed / seconds)}</td>" +
                        $"<td>{Units.Bytes(d.ReadBytes)}</td><td>{Units.Bytes(d.WriteBytes)}</td><td>{r.Duration(d.Latency.P50Ns)}</td>" +
                        $"<td>{r.Duration(d.Latency.P95Ns)}</td><td>{r.Duration(d.Latency.P99Ns)}</td><td>{r.Duration(d.Latency.MaxNs)}</td><td>{d.MaxInFlight}</td></tr>");
        o.WriteLine("</table><div class=\"charts\">");
        // one layer per VM (block when it has any): the two layers count the same I/O
        var block = r.Total.Vms.ToDictionary(v => v.Vm, UsesBlockLayer);
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "disk IOPS (completed requests per second; block layer, else qemu)", t0, t1,
            PerVm(r, (w, v) => Disk(v, block[v.Vm]).Completed / (w.LengthNs / 1e9)), v => N(v)));
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "disk latency p95 (block layer, else qemu)", t0, t1,
            PerVm(r, (w, v) => Disk(v, block[v.Vm]).Latency.P95Ns), v => r.Duration(v)));
        o.WriteLine("</div>");
    }

    private static void WriteNetwork(TextWriter o, AnalysisReport r, long t0, long t1)
    {
        o.WriteLine("<h2>Network</h2>");
        var vms = r.Total.Vms.Where(v => !v.Network.IsEmpty).ToList();
        if (vms.Count == 0)
        {
            o.WriteLine("<p class=\"empty\">no network traffic of any VM in this trace</p>");
            return;
        }
        o.WriteLine("<table><tr><th class=\"l\">VM</th><th>received</th><th>packets</th><th>sent</th><th>packets</th><th>vhost busy</th><th>vhost waiting</th></tr>");
        foreach (var v in vms)
        {
            var n = v.Network;
            o.WriteLine($"<tr><td class=\"l\">{E(v.Vm)}</td><td>{Units.Bytes(n.RxBytes)}</td><td>{Units.Count(n.RxPackets)}</td><td>{Units.Bytes(n.TxBytes)}</td>" +
                        $"<td>{Units.Count(n.TxPackets)}</td><td>{r.Duration(n.VhostBusyNs)}</td><td>{r.Duration(n.VhostWaitNs)}</td></tr>");
        }
        o.WriteLine("</table><div class=\"charts\">");
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "network received + sent (bytes per second)", t0, t1,
            PerVm(r, (w, v) => (v.Network.RxBytes + v.Network.TxBytes) / (w.LengthNs / 1e9)), v => Units.Bytes((long)v) + "/s"));
        o.WriteLine(HtmlLineChart.Svg(r.AxisUnit, "network packets per second", t0, t1,
            PerVm(r, (w, v) => (v.Network.RxPackets + v.Network.TxPackets) / (w.LengthNs / 1e9)), v => N(v)));
        o.WriteLine("</div>");
    }

    private static void WriteInterference(TextWriter o, AnalysisReport r, WindowMetrics total)
    {
        o.WriteLine("<h2>Interference: preempted time, VM × culprit</h2>");
        var culprits = total.Vms.SelectMany(v => v.Interferers).GroupBy(i => i.Culprit)
            .OrderByDescending(g => g.Sum(i => i.PreemptedNs)).Select(g => g.Key).ToList();
        if (culprits.Count == 0)
        {
            o.WriteLine("<p class=\"empty\">no vCPU was preempted in this trace (or there is no sched_switch)</p>");
            return;
        }
        long max = Math.Max(1, total.Vms.SelectMany(v => v.Interferers).Max(i => i.PreemptedNs));
        o.WriteLine("<table class=\"matrix\"><tr><th class=\"l\">VM \\ culprit</th>" + string.Concat(culprits.Select(c => $"<th>{E(c)}</th>")) + "<th>total</th></tr>");
        foreach (var vm in total.Vms)
        {
            var sb = new StringBuilder($"<tr><td class=\"l\">{E(vm.Vm)}</td>");
            foreach (var c in culprits)
            {
                long ns = vm.Interferers.Where(i => i.Culprit == c).Sum(i => i.PreemptedNs);
                double a = ns / (double)max;
                sb.Append($"<td style=\"background:rgba(214,39,40,{N(0.08 + 0.85 * a)})\">{(ns == 0 ? "" : r.Duration(ns))}</td>");
            }
            sb.Append($"<td>{r.Duration(vm.VcpuTimes.PreemptedNs)}</td></tr>");
            o.WriteLine(sb.ToString());
        }
        o.WriteLine("</table>");
    }

    private static List<HtmlLineChart.Series> PerVm(AnalysisReport r, Func<WindowMetrics, VmMetrics, double> value)
    {
        var list = new List<HtmlLineChart.Series>();
        for (int i = 0; i < r.Total.Vms.Count; i++)
        {
            string name = r.Total.Vms[i].Vm;
            var points = new List<(long, double)>();
            foreach (var w in r.Windows)
            {
                var v = w.Vms.FirstOrDefault(m => m.Vm == name);
                points.Add((w.StartNs + w.LengthNs / 2, v is null || w.LengthNs <= 0 ? 0 : value(w, v)));
            }
            list.Add(new HtmlLineChart.Series(name, VmColour(i), points));
        }
        return list;
    }
}
