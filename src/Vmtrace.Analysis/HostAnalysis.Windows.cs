namespace Vmtrace.Analysis;

/// <summary>Closing windows: open intervals are charged up to the boundary, figures are snapshotted, accumulators reset.</summary>
public sealed partial class HostAnalysis
{
    /// <summary>Closes every window that ends at or before <paramref name="t"/>.</summary>
    private void CloseWindowsThrough(long t)
    {
        while (t >= _windowEnd)
            CloseWindow(_windowEnd);
    }

    /// <summary>Closes the open window at <paramref name="end"/> and opens the next one, up to the next aligned boundary.</summary>
    private void CloseWindow(long end)
    {
        for (int i = 0; i <= _maxCpu; i++)
            AttributeInterference(_cpus[i], end);
        foreach (var t in _vmThreads)
        {
            Charge(t, end);
            t.GuestSinceEntryNs = 0; // a closed window is final
        }

        bool reported = _options.FromNs is not long from || end > from;
        if (reported)
        {
            var window = Snapshot(_windowStart, end);
            if (window.Vms.Count > 0)
                _closed.Add(window);
        }
        foreach (var vm in _vms)
        {
            vm.Window.Clear();
            foreach (var v in vm.Vcpus)
                v.Window.Clear();
        }
        _windowStart = end;
        _windowEnd = NextWindowEnd(end);
    }

    /// <summary>The next aligned boundary after <paramref name="start"/>, or the start of the reported range when it comes first (an exact cut there).</summary>
    private long NextWindowEnd(long start)
    {
        long aligned = AlignDown(start, _options.WindowNs) + _options.WindowNs;
        return _options.FromNs is long from && from > start && from < aligned ? from : aligned;
    }

    /// <summary>Scratch for <see cref="MergeExitsByReason"/>, empty between window closes.</summary>
    private readonly List<ExitMetrics> _exitScratch = [];
    /// <summary>Scratch for <see cref="TopInterferers"/>, empty between window closes.</summary>
    private readonly List<(string Culprit, long Ns)> _interferenceScratch = [];

    /// <summary>
    /// The closed window's figures. Only what the window hands out is allocated (its metrics records);
    /// the intermediate sorting and merging reuse scratch lists (no LINQ, no closures).
    /// </summary>
    private WindowMetrics Snapshot(long start, long end)
    {
        int cpus = CpuCount;
        var vms = new List<VmMetrics>();
        foreach (var vm in _vms)
        {
            if (vm.Window.IsEmpty && AllVcpusEmpty(vm))
                continue;
            var vcpus = new List<VcpuMetrics>();
            foreach (var v in vm.Vcpus)
            {
                if (!v.Window.IsEmpty)
                    InsertByVcpuId(vcpus, new VcpuMetrics(v.VcpuId, v.Tid, v.Window.Times, v.Window.SnapshotExits()));
            }
            CpuTimes times = default;
            int active = 0;
            foreach (var v in vcpus)
            {
                times = times.Add(v.Times);
                if (v.Times.OnCpuNs > 0)
                    active++;
            }
            long onCpu = vm.Window.ThreadsOnCpuNs;
            double share = end > start ? (double)onCpu / ((end - start) * (double)cpus) : 0;
            vms.Add(new VmMetrics(vm.Name, vm.Pid, vm.Origin, times, onCpu, share, active, vcpus, MergeExitsByReason(vcpus),
                vm.Window.QemuDisk.Snapshot(), vm.Window.BlockDisk.Snapshot(), vm.Window.Network, TopInterferers(vm.Window))
            { Identity = vm.Identity });
        }
        return new WindowMetrics(start, end, cpus, vms);
    }

    private static bool AllVcpusEmpty(VmInfo vm)
    {
        foreach (var v in vm.Vcpus)
        {
            if (!v.Window.IsEmpty)
                return false;
        }
        return true;
    }

    /// <summary>Keeps <paramref name="vcpus"/> ordered by vCPU id (ids are unique within a VM).</summary>
    private static void InsertByVcpuId(List<VcpuMetrics> vcpus, VcpuMetrics added)
    {
        int i = vcpus.Count;
        while (i > 0 && vcpus[i - 1].VcpuId > added.VcpuId)
            i--;
        vcpus.Insert(i, added);
    }

    /// <summary>
    /// The vCPUs' exits merged per reason, by ascending reason, each reason's figures folded in vCPU order:
    /// what <see cref="MetricsMerge.Exits(IEnumerable{ExitMetrics})"/> gives, without its LINQ garbage.
    /// </summary>
    private List<ExitMetrics> MergeExitsByReason(List<VcpuMetrics> vcpus)
    {
        var sorted = _exitScratch;
        foreach (var v in vcpus)
        {
            var exits = v.Exits;
            for (int k = 0; k < exits.Count; k++)
            {
                // Stable insertion by reason: equal reasons keep vCPU order.
                var x = exits[k];
                int i = sorted.Count;
                sorted.Add(x);
                while (i > 0 && sorted[i - 1].Reason > x.Reason)
                {
                    sorted[i] = sorted[i - 1];
                    i--;
                }
                sorted[i] = x;
            }
        }
        var merged = new List<ExitMetrics>();
        for (int i = 0; i < sorted.Count;)
        {
            var acc = sorted[i++];
            while (i < sorted.Count && sorted[i].Reason == acc.Reason)
                acc = acc.Merge(sorted[i++]);
            merged.Add(acc);
        }
        sorted.Clear();
        return merged;
    }

    /// <summary>
    /// The window's top interferers of one VM, the rest summed as "other": what <see cref="MetricsMerge.Top"/>
    /// gives, without its grouping (a culprit id has one name) or LINQ garbage.
    /// </summary>
    private List<Interference> TopInterferers(VmAccumulator window)
    {
        var ranked = _interferenceScratch;
        long other = 0;
        foreach (int id in window.InterferenceCulprits)
        {
            string name = _culpritNames[id];
            long ns = window.InterferenceNs(id);
            // A culprit literally named "other" is never ranked: like the remainder, it is summed into "other".
            if (name == MetricsMerge.Other)
                other += ns;
            else
                ranked.Add((name, ns));
        }
        ranked.Sort(static (a, b) => a.Ns != b.Ns ? b.Ns.CompareTo(a.Ns) : string.CompareOrdinal(a.Culprit, b.Culprit));
        var kept = new List<Interference>();
        for (int i = 0; i < ranked.Count; i++)
        {
            if (i < _options.TopInterferers)
                kept.Add(new Interference(ranked[i].Culprit, ranked[i].Ns));
            else
                other += ranked[i].Ns;
        }
        ranked.Clear();
        if (other > 0)
            kept.Add(new Interference(MetricsMerge.Other, other));
        return kept;
    }
}
