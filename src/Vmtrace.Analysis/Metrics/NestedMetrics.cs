namespace Vmtrace.Analysis;

/// <summary>
/// Where one L2 vCPU's time went, in ns, as seen from the L0 host (docs/metrics.md, "Nested VMs"): the L1 vCPU thread
/// running it on a pCPU in guest mode (<see cref="L2RunningNs"/>), running the L1 hypervisor on its behalf
/// (<see cref="L1RootNs"/>), in the L0 host on its behalf (<see cref="L0RootNs"/>), off a pCPU while runnable
/// (<see cref="L1PreemptedNs"/>) or sleeping (<see cref="BlockedNs"/>).
/// </summary>
public readonly record struct NestedTimes(long L2RunningNs, long L1RootNs, long L0RootNs, long L1PreemptedNs, long BlockedNs)
{
    /// <summary>All the time of its nested contexts: the five states together.</summary>
    public long TotalNs => L2RunningNs + L1RootNs + L0RootNs + L1PreemptedNs + BlockedNs;

    public NestedTimes Add(NestedTimes o) =>
        new(L2RunningNs + o.L2RunningNs, L1RootNs + o.L1RootNs, L0RootNs + o.L0RootNs, L1PreemptedNs + o.L1PreemptedNs, BlockedNs + o.BlockedNs);
}

/// <summary>
/// One vCPU of an L2 guest in one window. <see cref="Vcpu"/> numbers the L2 guest's vCPUs in the order they were first
/// entered; <see cref="Vmcs"/> is the address of its vmcs12 (VMX) or vmcb (SVM) in the L1 when the trace gives it, else empty;
/// <see cref="L1Vcpu"/> is the L1 vCPU last seen running it.
/// </summary>
public sealed record NestedVcpuMetrics(int Vcpu, string Vmcs, int L1Vcpu, NestedTimes Times, long L2Exits, long ReflectedExits, long L1Exits)
{
    public NestedVcpuMetrics Merge(NestedVcpuMetrics other) =>
        new(Vcpu, Vmcs, other.L1Vcpu, Times.Add(other.Times), L2Exits + other.L2Exits, ReflectedExits + other.ReflectedExits, L1Exits + other.L1Exits);
}

/// <summary>
/// One L2 guest run by an L1 VM, in one window. <see cref="L2"/> names it by what identifies it: <c>ept:0x…</c> (the nested
/// page table root kvm_nested_vmenter gives), <c>l1cr3:0x…</c> (the L1 process that runs it, from the research's
/// addons_vcpu_enter_guest) or <c>unknown</c>.
/// </summary>
public sealed record NestedGuestMetrics(string L2, IReadOnlyList<NestedVcpuMetrics> Vcpus)
{
    public NestedTimes Times => Vcpus.Aggregate(default(NestedTimes), (acc, v) => acc.Add(v.Times));

    /// <summary>Per L2 guest (by name) and vCPU (by number), in order of first appearance and by vCPU number.</summary>
    public static IReadOnlyList<NestedGuestMetrics> Merge(IEnumerable<NestedGuestMetrics> all)
    {
        var order = new List<string>();
        var byName = new Dictionary<string, List<NestedVcpuMetrics>>(StringComparer.Ordinal);
        foreach (var g in all)
        {
            if (!byName.TryGetValue(g.L2, out var list))
            {
                byName[g.L2] = list = [];
                order.Add(g.L2);
            }
            list.AddRange(g.Vcpus);
        }
        return order.Select(name => new NestedGuestMetrics(name, byName[name].GroupBy(v => v.Vcpu).OrderBy(x => x.Key)
            .Select(x => x.Aggregate((a, b) => a.Merge(b))).ToList())).ToList();
    }
}
