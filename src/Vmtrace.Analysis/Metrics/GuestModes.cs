namespace Vmtrace.Analysis;

/// <summary>
/// A vCPU's guest time by the guest's privilege level at VM entry, read from the guest instruction pointer the kvm
/// tracepoints carry (kvm_entry's rip, else the RIP of the thread's previous kvm_exit): the upper half of the 64-bit
/// address space is the guest kernel's, the lower half its user programs'. docs/metrics.md, "Guest address spaces and modes".
/// </summary>
/// <param name="KernelNs">Guest time of runs entered at a kernel address.</param>
/// <param name="UserNs">Guest time of runs entered at a user address.</param>
/// <param name="Runs">Runs whose entry and exit modes are both known.</param>
/// <param name="CrossedRuns">Of those, the runs that exited in the other mode than they entered in.</param>
public readonly record struct GuestModes(long KernelNs, long UserNs, long Runs, long CrossedRuns)
{
    public GuestModes Add(GuestModes o) => new(KernelNs + o.KernelNs, UserNs + o.UserNs, Runs + o.Runs, CrossedRuns + o.CrossedRuns);

    public bool IsEmpty => KernelNs == 0 && UserNs == 0 && Runs == 0;
}

/// <summary>
/// Guest time a VM spent in one guest address space: the CR3 the research's addons_vcpu_enter_guest tracepoint reports at
/// VM entry (PCID bits cleared), as hexadecimal; "other" sums the spaces beyond the top N, "unknown" the guest time of runs
/// no such event gave a CR3 (all of it on a kernel without that tracepoint): the entries sum to the VM's guest_ns.
/// </summary>
public sealed record GuestSpace(string Cr3, long GuestNs)
{
    /// <summary>The entry of guest time whose address space no event told.</summary>
    public const string Unknown = "unknown";

    /// <summary>Spaces kept one by one per VM and window (and in a total); the rest is summed as <see cref="MetricsMerge.Other"/>.</summary>
    public const int Top = 8;

    /// <summary>
    /// The <see cref="Top"/> largest, by time then CR3; the rest (and "other" entries already summed) as "other", then "unknown".
    /// Over several windows a space that ranked below the top in some of them has that part in "other".
    /// </summary>
    public static IReadOnlyList<GuestSpace> TopOf(IEnumerable<GuestSpace> all)
    {
        var merged = all.GroupBy(s => s.Cr3, StringComparer.Ordinal)
            .Select(g => new GuestSpace(g.Key, g.Sum(s => s.GuestNs)))
            .OrderByDescending(s => s.GuestNs).ThenBy(s => s.Cr3, StringComparer.Ordinal).ToList();
        long other = merged.Where(s => s.Cr3 == MetricsMerge.Other).Sum(s => s.GuestNs);
        long unknown = merged.Where(s => s.Cr3 == Unknown).Sum(s => s.GuestNs);
        var named = merged.Where(s => s.Cr3 is not (MetricsMerge.Other or Unknown)).ToList();
        var kept = named.Take(Top).ToList();
        other += named.Skip(Top).Sum(s => s.GuestNs);
        if (other > 0)
            kept.Add(new GuestSpace(MetricsMerge.Other, other));
        if (unknown > 0)
            kept.Add(new GuestSpace(Unknown, unknown));
        return kept;
    }
}
