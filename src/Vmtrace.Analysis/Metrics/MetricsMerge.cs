namespace Vmtrace.Analysis;

/// <summary>Merging of window figures: by exit reason, by vCPU, by VM, and windows into one total over a range.</summary>
public static class MetricsMerge
{
    public static IReadOnlyList<ExitMetrics> Exits(IEnumerable<ExitMetrics> exits) =>
        exits.GroupBy(x => (x.Reason, x.Isa)).OrderBy(g => g.Key.Reason).ThenBy(g => g.Key.Isa)
            .Select(g => g.Aggregate((a, b) => a.Merge(b))).ToList();

    public static IReadOnlyList<ExitMetrics> Exits(IEnumerable<ExitMetrics> a, IEnumerable<ExitMetrics> b) => Exits(a.Concat(b));

    public const string Other = "other";

    /// <summary>The <paramref name="top"/> largest, by time then name; the rest summed as "other".</summary>
    public static IReadOnlyList<Interference> Top(IEnumerable<Interference> all, int top)
    {
        var merged = all.GroupBy(i => i.Culprit, StringComparer.Ordinal)
            .Select(g => new Interference(g.Key, g.Sum(i => i.PreemptedNs)))
            .OrderByDescending(i => i.PreemptedNs).ThenBy(i => i.Culprit, StringComparer.Ordinal).ToList();
        // "other" (already the remainder of a window's top N) never ranks: it stays the remainder.
        long other = merged.Where(i => i.Culprit == Other).Sum(i => i.PreemptedNs);
        var named = merged.Where(i => i.Culprit != Other).ToList();
        var kept = named.Take(top).ToList();
        other += named.Skip(top).Sum(i => i.PreemptedNs);
        if (other > 0)
            kept.Add(new Interference(Other, other));
        return kept;
    }

    /// <summary>One total over consecutive windows (the range [first start, last end)); VMs by name and pid, vCPUs by id.</summary>
    public static WindowMetrics Total(IReadOnlyList<WindowMetrics> windows, int topInterferers = 5)
    {
        if (windows.Count == 0)
            return new WindowMetrics(0, 0, 0, []);
        long start = windows[0].StartNs, end = windows[^1].EndNs;
        int cpus = windows.Max(w => w.CpuCount);
        var vms = new List<VmMetrics>();
        var order = new List<(string, int)>();
        var groups = new Dictionary<(string, int), List<VmMetrics>>();
        foreach (var w in windows)
        {
            foreach (var vm in w.Vms)
            {
                var key = (vm.Vm, vm.Pid);
                if (!groups.TryGetValue(key, out var list))
                {
                    groups[key] = list = [];
                    order.Add(key);
                }
                list.Add(vm);
            }
        }
        foreach (var key in order)
        {
            var parts = groups[key];
            var vcpus = parts.SelectMany(p => p.Vcpus).GroupBy(v => v.VcpuId).OrderBy(g => g.Key)
                .Select(g => g.Aggregate((a, b) => a.Merge(b))).ToList();
            long onCpu = parts.Sum(p => p.ThreadsOnCpuNs);
            var qemu = parts.Select(p => p.QemuDisk).Aggregate((a, b) => a.Merge(b));
            var block = parts.Select(p => p.BlockDisk).Aggregate((a, b) => a.Merge(b));
            var net = parts.Select(p => p.Network).Aggregate((a, b) => a.Merge(b));
            vms.Add(new VmMetrics(key.Item1, key.Item2, parts[^1].Origin,
                vcpus.Aggregate(default(CpuTimes), (acc, v) => acc.Add(v.Times)), onCpu,
                end > start ? (double)onCpu / ((end - start) * (double)cpus) : 0,
                vcpus.Count(v => v.Times.OnCpuNs > 0), vcpus, Exits(vcpus.SelectMany(v => v.Exits)),
                qemu, block, net, Top(parts.SelectMany(p => p.Interferers), topInterferers))
            {
                Identity = parts[^1].Identity,
                PreemptedIntervals = parts.Aggregate(default(DurationSpread), (acc, p) => acc.Merge(p.PreemptedIntervals)),
                WaitCauses = vcpus.Aggregate(default(WaitCauses), (acc, v) => acc.Add(v.WaitCauses)),
                GuestModes = vcpus.Aggregate(default(GuestModes), (acc, v) => acc.Add(v.GuestModes)),
                GuestSpaces = GuestSpace.TopOf(parts.SelectMany(p => p.GuestSpaces)),
                Nested = NestedGuestMetrics.Merge(parts.SelectMany(p => p.Nested)),
            });
        }
        return new WindowMetrics(start, end, cpus, vms);
    }
}
