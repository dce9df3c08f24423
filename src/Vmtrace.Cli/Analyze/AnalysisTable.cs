using System.Globalization;
using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary>The human report of <c>analyze</c>: totals over the analysed range, one block per VM.</summary>
internal static class AnalysisTable
{
    private const int TopExitReasons = 10;

    public static void Write(TextWriter o, AnalysisReport r, int top)
    {
        var total = r.Total;
        o.WriteLine($"trace: {r.Trace}");
        if (r.Inventory is not null)
            o.WriteLine($"inventory: {r.Inventory}");
        o.WriteLine($"events: {Units.Count(r.Events)}   range: {r.Time(Math.Max(total.StartNs, r.FirstNs))} .. {r.Time(total.EndNs)} ({r.Duration(total.EndNs - Math.Max(total.StartNs, r.FirstNs))})   windows: {r.Windows.Count} x {r.Duration(r.WindowNs)}   pCPUs: {total.CpuCount}");
        if (r.InCycles)
            o.WriteLine($"clock: {r.ClockName}: every time and duration here is in TSC cycles (cyc), not ns");
        var c = r.Counters;
        o.WriteLine($"inferred switches: {Units.Count(c.InferredSwitches)}   lost kvm_exit: {Units.Count(c.LostExits)}   lost-event reports: {Units.Count(c.LossReports + r.Diagnostics.LossReports)} ({Units.Count(r.Diagnostics.LostEvents)} events)   out-of-order: {Units.Count(c.OutOfOrderEvents)}   decode errors: {Units.Count(r.Diagnostics.ErrorCount)}"
            + (c.TimeJumps > 0 ? $"   time jumps: {Units.Count(c.TimeJumps)} ({r.Duration(c.TimeJumpNs)} not analysed)" : ""));
        foreach (var note in AnalysisNotes.Of(c))
            o.WriteLine($"note: {note}");
        WriteEpisodes(o, r);
        var model = WorkloadModel.Shipped;
        var dominant = WorkloadSummary.Dominant(r.Windows, model);
        if (total.Vms.Count == 0)
        {
            o.WriteLine();
            o.WriteLine("no VM found: no kvm_entry/kvm_exit, no qemu thread (qemu-system-*, CPU n/KVM, CPU n/TCG) and no inventory");
            return;
        }
        foreach (var vm in total.Vms)
        {
            o.WriteLine();
            string pid = vm.Pid >= 0 ? vm.Pid.ToString(CultureInfo.InvariantCulture) : "?";
            o.WriteLine($"VM {vm.Vm}  (pid {pid}; identity {vm.Identity}: {vm.Origin})");
            if (vm.Identity == VmIdentity.Guess)
                o.WriteLine("  warning: this VM's identity is a guess (no vmmap.json, and the trace does not say which threads are one process)");
            o.WriteLine($"  pCPU share {Units.Percent(vm.PcpuShare)}   all threads on CPU {r.Duration(vm.ThreadsOnCpuNs)}   active vCPUs {vm.ActiveVcpus}");
            WriteWorkload(o, r, vm.Vm, model, dominant);
            WriteVcpus(o, r, vm);
            WriteWaitCauses(o, r, vm);
            WriteGuestModesAndSpaces(o, r, vm);
            WriteNested(o, r, vm);
            WriteExits(o, r, vm);
            WriteDisk(o, r, "disk (qemu thread pool)", vm.QemuDisk);
            WriteDisk(o, r, "disk (host block layer)", vm.BlockDisk);
            if (!vm.Network.IsEmpty)
            {
                var n = vm.Network;
                o.WriteLine($"  network: received {Units.Count(n.RxPackets)} packets {Units.Bytes(n.RxBytes)}   sent {Units.Count(n.TxPackets)} packets {Units.Bytes(n.TxBytes)}   vhost busy {r.Duration(n.VhostBusyNs)} waiting {r.Duration(n.VhostWaitNs)}");
            }
            if (vm.Interferers.Count > 0)
            {
                long sum = vm.Interferers.Sum(i => i.PreemptedNs);
                o.WriteLine($"  preempted by (top {top}): " + string.Join("   ", vm.Interferers.Select(i =>
                    $"{i.Culprit} {r.Duration(i.PreemptedNs)} ({Units.Percent(sum == 0 ? 0 : (double)i.PreemptedNs / sum)})")));
            }
        }
    }

    /// <summary>The interference episodes, worst first, before the per-VM blocks.</summary>
    private static void WriteEpisodes(TextWriter o, AnalysisReport r)
    {
        o.WriteLine();
        if (r.Episodes.Count == 0)
        {
            o.WriteLine("Episodes: none (no VM lost CPU time to others or had an exit storm)");
            return;
        }
        o.WriteLine($"Episodes ({r.Episodes.Count}, worst first):");
        foreach (var e in r.EpisodesWorstFirst)
        {
            string culprits = e.Culprits.Count == 0 ? "no culprit named"
                : string.Join(", ", e.Culprits.Take(3).Select(c => $"{c.Name} ({c.Kind}) {Units.Percent(c.Share)}"));
            o.WriteLine($"  {e.Vm} {e.Resource}  severity {e.Severity.ToString("0.00", CultureInfo.InvariantCulture)}  {r.Time(e.StartNs)} .. {r.Time(e.EndNs)} ({r.Duration(e.DurationNs)})  by {culprits}");
            o.WriteLine($"    {e.Advice}");
        }
    }

    private const int WorkloadRunsShown = 8;

    /// <summary>
    /// The VM's dominant workload class over the run, then its class window by window as runs of consecutive windows in
    /// one class (from, to, how many windows, their mean confidence).
    /// </summary>
    private static void WriteWorkload(TextWriter o, AnalysisReport r, string vm, WorkloadModel model, IReadOnlyDictionary<string, WorkloadClass> dominant)
    {
        if (!dominant.TryGetValue(vm, out var d))
            return;
        var runs = new List<(string Class, long StartNs, long EndNs, int Windows, double ConfidenceSum)>();
        int count = 0;
        foreach (var w in r.Windows)
        {
            var v = w.Vms.FirstOrDefault(m => m.Vm == vm);
            if (v is null)
                continue;
            count++;
            var c = model.Classify(w, v);
            if (runs.Count > 0 && runs[^1].Class == c.Class && runs[^1].EndNs == w.StartNs)
                runs[^1] = (c.Class, runs[^1].StartNs, w.EndNs, runs[^1].Windows + 1, runs[^1].ConfidenceSum + c.Confidence);
            else
                runs.Add((c.Class, w.StartNs, w.EndNs, 1, c.Confidence));
        }
        string shown = string.Join(", ", runs.Take(WorkloadRunsShown).Select(x =>
            $"{x.Class} {r.Time(x.StartNs)} .. {r.Time(x.EndNs)} ({x.Windows} x, confidence {(x.ConfidenceSum / x.Windows).ToString("0.00", CultureInfo.InvariantCulture)})"));
        if (runs.Count > WorkloadRunsShown)
            shown += $", … {runs.Count - WorkloadRunsShown} more runs";
        o.WriteLine($"  workload: {d.Class} ({Units.Percent(d.Confidence)} of its {count} windows)   by window: {shown}");
    }

    private static void WriteVcpus(TextWriter o, AnalysisReport r, VmMetrics vm)
    {
        if (vm.Vcpus.Count == 0)
            return;
        o.WriteLine($"  {"vCPU",-5} {"tid",8} {"guest",12} {"host",12} {"preempted",12} {"wake wait",12} {"blocked",12} {"exits",10}");
        foreach (var v in vm.Vcpus)
        {
            var t = v.Times;
            o.WriteLine($"  {v.VcpuId,-5} {v.Tid,8} {r.Duration(t.GuestNs),12} {r.Duration(t.HostNs),12} {r.Duration(t.PreemptedNs),12} {r.Duration(t.WaitNs),12} {r.Duration(t.BlockedNs),12} {Units.Count(v.Exits.Sum(x => x.Latency.Count)),10}");
        }
        // The kernel's books differ from what happened here: users comparing with the guest's steal time need to see it.
        var queued = vm.Vcpus.Where(v => v.Times.BlockedQueuedNs > 0).ToList();
        if (queued.Count > 0)
            o.WriteLine("  of blocked, still queued by the kernel (it counts this as run-queue wait, the guest as steal): " +
                string.Join("   ", queued.Select(v => $"vCPU {v.VcpuId} {r.Duration(v.Times.BlockedQueuedNs)}")));
    }

    /// <summary>The vCPUs' blocked time by what ended each wait (the VM's, then each vCPU's when it has several).</summary>
    private static void WriteWaitCauses(TextWriter o, AnalysisReport r, VmMetrics vm)
    {
        if (vm.WaitCauses.TotalNs == 0)
            return;
        o.WriteLine("  wait causes (blocked time by what ended it): " + WaitCauseText(r, vm.WaitCauses));
        if (vm.Vcpus.Count < 2)
            return;
        foreach (var v in vm.Vcpus.Where(v => v.WaitCauses.TotalNs > 0))
            o.WriteLine($"    vCPU {v.VcpuId}: " + WaitCauseText(r, v.WaitCauses));
    }

    /// <summary>Guest time by guest mode at entry and by guest address space, when the trace tells them.</summary>
    private static void WriteGuestModesAndSpaces(TextWriter o, AnalysisReport r, VmMetrics vm)
    {
        var m = vm.GuestModes;
        if (!m.IsEmpty)
        {
            long guest = vm.VcpuTimes.GuestNs;
            string Part(string name, long ns) => $"{name} {r.Duration(ns)} ({Units.Percent(guest == 0 ? 0 : (double)ns / guest)})";
            o.WriteLine("  guest mode at entry: " + string.Join("   ", Part("kernel", m.KernelNs), Part("user", m.UserNs),
                Part("unknown", Math.Max(0, guest - m.KernelNs - m.UserNs))) + $"   runs that changed mode {Units.Count(m.CrossedRuns)} of {Units.Count(m.Runs)}");
        }
        if (vm.GuestSpaces.Any(s => s.Cr3 != GuestSpace.Unknown))
            o.WriteLine("  guest address spaces (CR3): " + string.Join("   ", vm.GuestSpaces.Select(s => $"{s.Cr3} {r.Duration(s.GuestNs)}")));
    }

    /// <summary>The L2 guests the VM's vCPUs ran (nested virtualisation), each L2 vCPU's time by state.</summary>
    private static void WriteNested(TextWriter o, AnalysisReport r, VmMetrics vm)
    {
        foreach (var g in vm.Nested)
        {
            o.WriteLine($"  nested L2 guest {g.L2}:");
            o.WriteLine($"    {"L2 vCPU",-8} {"L1 vCPU",8} {"L2 running",12} {"L1 root",12} {"L0 root",12} {"L1 preempted",13} {"blocked",12} {"L2 exits",9} {"to L1",9} {"L1 exits",9}");
            foreach (var v in g.Vcpus)
            {
                var t = v.Times;
                o.WriteLine($"    {v.Vcpu,-8} {v.L1Vcpu,8} {r.Duration(t.L2RunningNs),12} {r.Duration(t.L1RootNs),12} {r.Duration(t.L0RootNs),12} {r.Duration(t.L1PreemptedNs),13} {r.Duration(t.BlockedNs),12} {Units.Count(v.L2Exits),9} {Units.Count(v.ReflectedExits),9} {Units.Count(v.L1Exits),9}");
            }
        }
    }

    internal static string WaitCauseText(AnalysisReport r, WaitCauses c)
    {
        long total = c.TotalNs;
        string Part(string name, long ns) => $"{name} {r.Duration(ns)} ({Units.Percent(total == 0 ? 0 : (double)ns / total)})";
        return string.Join("   ", Part("timer", c.TimerNs), Part("disk", c.DiskNs), Part("net", c.NetNs), Part("vcpu", c.VcpuNs),
            Part("host", c.HostNs), Part("unknown", c.UnknownNs));
    }

    private static void WriteExits(TextWriter o, AnalysisReport r, VmMetrics vm)
    {
        if (vm.Exits.Count == 0)
            return;
        o.WriteLine($"  {"exit reason",-24} {"count",10} {"total",12} {"mean",10} {"p50",10} {"p95",10} {"p99",10} {"max",10}");
        foreach (var x in vm.Exits.OrderByDescending(x => x.Latency.Count).ThenBy(x => x.Reason).Take(TopExitReasons))
        {
            var l = x.Latency;
            o.WriteLine($"  {x.Description,-24} {Units.Count(l.Count),10} {r.Duration(l.SumNs),12} {r.Duration(l.MeanNs),10} {r.Duration(l.P50Ns),10} {r.Duration(l.P95Ns),10} {r.Duration(l.P99Ns),10} {r.Duration(l.MaxNs),10}");
        }
        if (vm.Exits.Count > TopExitReasons)
            o.WriteLine($"  … {vm.Exits.Count - TopExitReasons} more reasons ({Units.Count(vm.Exits.OrderByDescending(x => x.Latency.Count).Skip(TopExitReasons).Sum(x => x.Latency.Count))} exits)");
    }

    private static void WriteDisk(TextWriter o, AnalysisReport r, string title, DiskLayerMetrics d)
    {
        if (d.IsEmpty)
            return;
        var l = d.Latency;
        o.WriteLine($"  {title}: {Units.Count(d.Submitted)} submitted, {Units.Count(d.Completed)} completed;"
            + $" read {Units.Count(d.ReadRequests)} ({Units.Bytes(d.ReadBytes)}), write {Units.Count(d.WriteRequests)} ({Units.Bytes(d.WriteBytes)});"
            + $" latency mean {r.Duration(l.MeanNs)} p95 {r.Duration(l.P95Ns)} max {r.Duration(l.MaxNs)};"
            + $" in flight at end {d.InFlight}, max {d.MaxInFlight};"
            + $" submit gap mean {r.Duration(d.SubmitIntervals.MeanNs)} sd {r.Duration(Math.Sqrt(d.SubmitIntervals.VarianceNs2))},"
            + $" complete gap mean {r.Duration(d.CompleteIntervals.MeanNs)} sd {r.Duration(Math.Sqrt(d.CompleteIntervals.VarianceNs2))}");
    }
}
