using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// The event-time windows: which one is open, closing them (open intervals charged up to the boundary, figures
/// snapshotted, accumulators reset), time jumps, and the closed windows not yet taken.
/// </summary>
internal sealed class WindowTracker
{
    private readonly AnalysisOptions _options;
    private readonly long _maxGapNs;
    private readonly EventClock _clock;
    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;
    private readonly EpisodeDetector _episodes;
    private readonly DiskTracker _disk;
    private readonly List<WindowMetrics> _closed = [];
    private long _windowStart;
    private NestedTracker? _nested;

    public WindowTracker(AnalysisOptions options, EventClock clock, AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler,
        EpisodeDetector episodes, DiskTracker disk)
    {
        _options = options;
        _maxGapNs = options.EffectiveMaxGapNs;
        _clock = clock;
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
        _episodes = episodes;
        _disk = disk;
    }

    /// <summary>The L2 guests' figures are snapshotted and cleared with the VMs'.</summary>
    public void Connect(NestedTracker nested) => _nested = nested;

    /// <summary>Start of the open window.</summary>
    public long Start => _windowStart;

    /// <summary>End of the open window: an event at or after it closes it.</summary>
    public long End => _clock.WindowEnd;

    /// <summary>Opens the window of the first event.</summary>
    public void Open(long t)
    {
        _windowStart = AlignDown(t, _options.WindowNs);
        _clock.WindowEnd = NextWindowEnd(_windowStart);
    }

    internal static long AlignDown(long t, long window)
    {
        long r = t % window;
        if (r < 0) r += window;
        // Below the first whole window of the long range (only a corrupt timestamp is there), the range's start.
        return t < long.MinValue + r ? long.MinValue : t - r;
    }

    /// <summary>Closed windows not taken yet (for tests).</summary>
    internal int PendingClosed => _closed.Count;

    /// <summary>Windows closed since the last call, oldest first.</summary>
    public IReadOnlyList<WindowMetrics> TakeClosed()
    {
        if (_closed.Count == 0)
            return []; // polled often (every batch of events): nothing allocated when no window closed
        var taken = _closed.ToArray();
        _closed.Clear();
        return taken;
    }

    /// <summary>
    /// Closes every window that ends at or before <paramref name="t"/>; across a time jump (see
    /// <see cref="AnalysisOptions.MaxGapNs"/>) only the open one, and the analysis resumes in the window of <paramref name="t"/>.
    /// </summary>
    public void CloseWindowsThrough(long t)
    {
        // t >= the clock here: the difference taken unsigned is exact whatever the two values.
        if ((ulong)(t - _clock.Now) > (ulong)_maxGapNs)
        {
            SkipGap(t);
            return;
        }
        // The last window of the time line (its end saturated at long.MaxValue) only closes at the end.
        while (t >= _clock.WindowEnd && _clock.WindowEnd != long.MaxValue)
            CloseWindow(_clock.WindowEnd);
    }

    /// <summary>
    /// A gap no trace has (a corrupt timestamp, a clock step): its windows are not made (there could be billions),
    /// and no time in it is charged to anyone. The open window closes where the events stopped (partial, as the
    /// last window of a trace is), every interval still open restarts at <paramref name="t"/>, and the jump is counted.
    /// </summary>
    private void SkipGap(long t)
    {
        _counters.TimeJumps++;
        ulong gap = (ulong)(t - _clock.Now);
        _counters.TimeJumpNs = (ulong)_counters.TimeJumpNs + gap > long.MaxValue ? long.MaxValue : _counters.TimeJumpNs + (long)gap;
        if (_clock.Now > _windowStart)
            CloseWindow(_clock.Now);
        _scheduler.RestartAfterGap(t);
        foreach (var vm in _identity.Vms)
            vm.Window.ForgetLastPackets();
        _windowStart = AlignDown(t, _options.WindowNs);
        _clock.WindowEnd = NextWindowEnd(_windowStart);
    }

    /// <summary>Closes the open window at <paramref name="end"/> and opens the next one, up to the next aligned boundary.</summary>
    public void CloseWindow(long end)
    {
        _scheduler.AttributeAll(end);
        foreach (var t in _identity.VmThreads)
        {
            _scheduler.Charge(t, end);
            KvmTracker.AttributeGuestRun(t); // zeroes GuestSinceEntryNs: a closed window is final
        }

        bool reported = _options.FromNs is not long from || end > from;
        if (reported)
        {
            var window = Snapshot(_windowStart, end);
            if (window.Vms.Count > 0)
            {
                _closed.Add(window);
                _episodes.OnWindow(window);
            }
        }
        foreach (var vm in _identity.Vms)
        {
            vm.Window.Clear();
            foreach (var v in vm.Vcpus)
                v.Window.Clear();
        }
        _nested?.ClearWindow();
        _disk.HostBlock.ClearWindow();
        _windowStart = end;
        _clock.WindowEnd = NextWindowEnd(end);
    }

    /// <summary>The next aligned boundary after <paramref name="start"/>, or the start of the reported range when it comes first (an exact cut there).</summary>
    private long NextWindowEnd(long start)
    {
        long down = AlignDown(start, _options.WindowNs);
        long aligned = down > long.MaxValue - _options.WindowNs ? long.MaxValue : down + _options.WindowNs;
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
        int cpus = _options.CpuCount > 0 ? _options.CpuCount : Math.Max(1, _scheduler.MaxCpu + 1);
        var vms = new List<VmMetrics>();
        foreach (var vm in _identity.Vms)
        {
            if (vm.Window.IsEmpty && AllVcpusEmpty(vm))
                continue;
            var vcpus = new List<VcpuMetrics>();
            foreach (var v in vm.Vcpus)
            {
                if (!v.Window.IsEmpty)
                    InsertByVcpuId(vcpus, new VcpuMetrics(v.VcpuId, v.Tid, v.Window.Times, v.Window.SnapshotExits())
                    {
                        WaitCauses = v.Window.WaitCauses,
                        GuestModes = v.Window.GuestModes,
                    });
            }
            CpuTimes times = default;
            WaitCauses waitCauses = default;
            GuestModes guestModes = default;
            int active = 0;
            foreach (var v in vcpus)
            {
                times = times.Add(v.Times);
                waitCauses = waitCauses.Add(v.WaitCauses);
                guestModes = guestModes.Add(v.GuestModes);
                if (v.Times.OnCpuNs > 0)
                    active++;
            }
            long onCpu = vm.Window.ThreadsOnCpuNs;
            double share = end > start ? (double)onCpu / ((end - start) * (double)cpus) : 0;
            vms.Add(new VmMetrics(vm.Name, vm.Pid, vm.Origin, times, onCpu, share, active, vcpus, MergeExitsByReason(vcpus),
                vm.Window.QemuDisk.Snapshot(), vm.Window.BlockDisk.Snapshot(), vm.Window.Network, TopInterferers(vm.Window))
            {
                Identity = vm.Identity, PreemptedIntervals = vm.Window.PreemptedIntervals, WaitCauses = waitCauses,
                GuestModes = guestModes, GuestSpaces = vm.Window.SnapshotGuestSpaces(),
                Nested = _nested?.Snapshot(vm) ?? [],
            });
        }
        return new WindowMetrics(start, end, cpus, vms) { HostBlockDisk = _disk.HostBlock.Snapshot() };
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
            string name = _identity.CulpritName(id);
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

    public void WriteCheckpoint(SectionWriter w)
    {
        w.Int64(_windowStart);
        w.Int64(_clock.WindowEnd);
        foreach (var vm in _identity.Vms)
        {
            vm.Window.WriteTimesTo(w);
            foreach (var v in vm.Vcpus)
                v.Window.WriteTimesTo(w);
        }
        w.Count(_closed.Count);
        foreach (var window in _closed)
            WindowCodec.Write(w, window);
        _episodes.WriteCheckpoint(w);
    }

    public void ReadCheckpoint(SectionReader r)
    {
        _windowStart = r.Int64();
        _clock.WindowEnd = r.Int64();
        foreach (var vm in _identity.Vms)
        {
            vm.Window.ReadTimesFrom(r, _identity.CulpritCount);
            foreach (var v in vm.Vcpus)
                v.Window.ReadTimesFrom(r);
        }
        int closed = r.Count(28);
        for (int i = 0; i < closed; i++)
            _closed.Add(WindowCodec.Read(r));
        _episodes.ReadCheckpoint(r);
    }
}
