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

    private WindowMetrics Snapshot(long start, long end)
    {
        int cpus = CpuCount;
        var vms = new List<VmMetrics>();
        foreach (var vm in _vms)
        {
            bool vcpusEmpty = vm.Vcpus.TrueForAll(v => v.Window.IsEmpty);
            if (vcpusEmpty && vm.Window.IsEmpty)
                continue;
            var vcpus = vm.Vcpus.Where(v => !v.Window.IsEmpty).OrderBy(v => v.VcpuId)
                .Select(v => new VcpuMetrics(v.VcpuId, v.Tid, v.Window.Times, v.Window.SnapshotExits())).ToList();
            var times = vcpus.Aggregate(default(CpuTimes), (acc, v) => acc.Add(v.Times));
            var exits = MetricsMerge.Exits(vcpus.SelectMany(v => v.Exits));
            long onCpu = vm.Window.ThreadsOnCpuNs;
            double share = end > start ? (double)onCpu / ((end - start) * (double)cpus) : 0;
            int active = vcpus.Count(v => v.Times.OnCpuNs > 0);
            vms.Add(new VmMetrics(vm.Name, vm.Pid, vm.Origin, times, onCpu, share, active, vcpus, exits,
                vm.Window.QemuDisk.Snapshot(), vm.Window.BlockDisk.Snapshot(), vm.Window.Network,
                MetricsMerge.Top(vm.Window.InterferenceCulprits.Select(id => new Interference(_culpritNames[id], vm.Window.InterferenceNs(id))), _options.TopInterferers)));
        }
        return new WindowMetrics(start, end, cpus, vms);
    }
}
