namespace Vmtrace.Cli;

/// <summary>The text view of the fused host+guest analysis: per guest, its threads' run time by what the host did meanwhile.</summary>
internal static class GuestTable
{
    private const int TopThreads = 10;

    public static void Write(TextWriter o, AnalysisReport r)
    {
        foreach (var (trace, g) in r.Guests ?? [])
        {
            o.WriteLine();
            o.WriteLine($"guest {g.Name}  (trace {trace}; " + (g.Vm is { } vm ? $"VM {vm})" : "no vCPU thread of it found in the host trace: its time is all unknown)"));
            if (g.Threads.Count == 0)
            {
                o.WriteLine("  no guest thread ran (no sched_switch in the guest trace)");
                continue;
            }
            o.WriteLine($"  {"tid",8} {"comm",-16} {"run",12} {"in guest",12} {"hypervisor",12} {"preempted",12} {"unknown",12}");
            var shown = g.Threads.Take(TopThreads).ToList();
            foreach (var t in shown)
                o.WriteLine($"  {t.Tid,8} {Clip(t.Comm),-16} {r.Duration(t.RunNs),12} {r.Duration(t.InGuestNs),12} {r.Duration(t.HypervisorNs),12} {r.Duration(t.PreemptedNs),12} {r.Duration(t.UnknownNs),12}");
            if (g.Threads.Count > TopThreads)
                o.WriteLine($"  … {g.Threads.Count - TopThreads} more threads ({r.Duration(g.Threads.Skip(TopThreads).Sum(t => t.RunNs))} run; --format json lists them all)");
            foreach (var t in g.Threads.Where(t => t.PreemptedNs > 0).OrderByDescending(t => (double)t.PreemptedNs / t.RunNs).ThenBy(t => t.Tid).Take(TopThreads))
            {
                o.WriteLine($"  guest thread {t.Tid} ({t.Comm}) lost {Units.Percent((double)t.PreemptedNs / t.RunNs)} of its run to host preemption by "
                    + string.Join(", ", t.PreemptedBy.Select(p => $"{p.Culprit} ({r.Duration(p.Ns)})")));
            }
        }
    }

    private static string Clip(string comm) => comm.Length <= 16 ? comm : comm[..15] + "…";
}
