using System.Globalization;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis;

/// <summary>
/// Interference episodes from closed windows, fed in time order (<see cref="OnWindow"/>): a cpu episode is a run of
/// windows in which a VM's vCPUs lost a share of the CPU time they wanted to other VMs or host processes; an exits
/// episode is a run of windows in which one exit reason's rate stood far above the VM's own baseline for it; disk and
/// net episodes: EpisodeDetector.Disk.cs.
/// An episode closes with the first window that does not continue it (or a window gap, or <see cref="Finish"/>).
/// Pure and deterministic: the same windows give the same episodes, in analyze and in the worker; the state is saved
/// in the analysis checkpoint.
/// </summary>
public sealed partial class EpisodeDetector
{
    private readonly List<VmState> _vms = [];
    private readonly Dictionary<string, VmState> _byName = new(StringComparer.Ordinal);
    private readonly List<Episode> _closed = [];

    /// <summary>Episodes closed since the last call, in the order they closed.</summary>
    public IReadOnlyList<Episode> TakeClosed()
    {
        if (_closed.Count == 0)
            return [];
        var taken = _closed.ToArray();
        _closed.Clear();
        return taken;
    }

    /// <summary>Episodes still open (for tests).</summary>
    internal int OpenCount
    {
        get
        {
            int n = 0;
            foreach (var vm in _vms)
            {
                if (vm.Cpu is not null)
                    n++;
                if (vm.Disk is not null)
                    n++;
                if (vm.Net is not null)
                    n++;
                foreach (var x in vm.Exits)
                {
                    if (x.Storm is not null)
                        n++;
                }
            }
            return n;
        }
    }

    /// <summary>Takes one closed window (windows in time order).</summary>
    public void OnWindow(WindowMetrics window)
    {
        ArgumentNullException.ThrowIfNull(window);
        foreach (var metrics in window.Vms)
        {
            if (!_byName.TryGetValue(metrics.Vm, out var vm))
            {
                vm = new VmState(metrics.Vm);
                _vms.Add(vm);
                _byName.Add(metrics.Vm, vm);
            }
            OnCpu(vm, window, metrics);
            OnExits(vm, window, metrics);
            OnDisk(vm, window, metrics);
            OnNet(vm, window, metrics);
            vm.SeenUntil = window.EndNs;
        }
        // A VM absent from the window (idle, or gone) continues no episode.
        foreach (var vm in _vms)
        {
            if (vm.SeenUntil != window.EndNs)
                CloseAll(vm);
        }
    }

    /// <summary>Closes every open episode (the analysis ended).</summary>
    public void Finish()
    {
        foreach (var vm in _vms)
            CloseAll(vm);
    }

    private void CloseAll(VmState vm)
    {
        CloseCpu(vm);
        foreach (var x in vm.Exits)
            CloseStorm(vm, x);
        CloseDisk(vm);
        CloseNet(vm);
    }

    // ---- cpu ----

    private void OnCpu(VmState vm, WindowMetrics window, VmMetrics metrics)
    {
        var t = metrics.VcpuTimes;
        var (wanted, lostToOthers, attributed, _) = CpuLoss(metrics);
        double severity = wanted > 0 ? (double)lostToOthers / wanted : 0;
        bool contended = severity >= EpisodeRules.CpuMinWindowSeverity
            && lostToOthers >= EpisodeRules.CpuMinLostShareOfWindow * window.LengthNs;
        if (vm.Cpu is { } open && open.EndNs != window.StartNs)
            CloseCpu(vm);
        if (!contended)
        {
            CloseCpu(vm);
            return;
        }
        // A culprit the open episode hardly had before, now the window's largest: a new contender arrived, a new episode.
        if (vm.Cpu is { Windows: >= EpisodeRules.CpuNewCulpritMinWindows } current && TopForeign(metrics) is { } top && top != MetricsMerge.Other
            && current.NsOf(top) < EpisodeRules.CpuNewCulpritShare * current.ForeignNs)
            CloseCpu(vm);
        var e = vm.Cpu ??= new CpuEpisode { StartNs = window.StartNs };
        e.EndNs = window.EndNs;
        e.Windows++;
        e.WantedNs += wanted;
        e.LostNs += lostToOthers;
        e.PreemptedNs += t.PreemptedNs;
        e.WaitNs += t.WaitNs;
        e.AttributedNs += attributed;
        e.PeakSeverity = Math.Max(e.PeakSeverity, severity);
        foreach (var i in metrics.Interferers)
        {
            if (IsForeign(metrics.Vm, i.Culprit))
                e.Add(i.Culprit, i.PreemptedNs);
        }
    }

    /// <summary>The window's culprit with the most preempted time among those that count as others (ties: the first listed), or null.</summary>
    private static string? TopForeign(VmMetrics metrics)
    {
        string? top = null;
        long most = 0;
        foreach (var i in metrics.Interferers)
        {
            if (IsForeign(metrics.Vm, i.Culprit) && i.PreemptedNs > most)
            {
                top = i.Culprit;
                most = i.PreemptedNs;
            }
        }
        return top;
    }

    /// <summary>Preempted time that counts as lost to someone else: not to the VM's own threads, an idle pCPU or an unknown one.</summary>
    private static bool IsForeign(string vm, string culprit) => culprit != vm && culprit != "idle" && culprit != "unknown";

    private void CloseCpu(VmState vm)
    {
        if (vm.Cpu is not { } e)
            return;
        vm.Cpu = null;
        long foreign = 0;
        foreach (var (_, ns) in e.Culprits)
            foreign += ns;
        var culprits = new List<EpisodeCulprit>();
        foreach (var (name, ns) in e.Culprits)
        {
            if (name == MetricsMerge.Other)
                continue;
            var (display, kind) = CulpritOf(name);
            culprits.Add(new EpisodeCulprit(display, kind, foreign > 0 ? (double)ns / foreign : 0));
        }
        culprits.Sort(static (a, b) => a.Share != b.Share ? b.Share.CompareTo(a.Share) : string.CompareOrdinal(a.Name, b.Name));
        double severity = e.WantedNs > 0 ? Math.Min(1, (double)e.LostNs / e.WantedNs) : 0;
        EpisodeFigure[] evidence =
        [
            new("wanted_ns", e.WantedNs), new("lost_ns", e.LostNs), new("preempted_ns", e.PreemptedNs), new("wait_ns", e.WaitNs),
            new("preempted_by_others_ns", foreign), new("preempted_attributed_ns", e.AttributedNs),
            new("peak_window_severity", e.PeakSeverity), new("windows", e.Windows),
        ];
        _closed.Add(new Episode(vm.Name, EpisodeResource.Cpu, e.StartNs, e.EndNs, severity, culprits, evidence,
            CpuAdvice(vm.Name, severity, culprits)));
    }

    /// <summary>The culprit as shown (a host process by its comm) and its kind.</summary>
    internal static (string Name, string Kind) CulpritOf(string culprit)
    {
        const string HostPrefix = "host:";
        if (!culprit.StartsWith(HostPrefix, StringComparison.Ordinal))
            return (culprit, EpisodeCulpritKind.Vm);
        string comm = culprit[HostPrefix.Length..];
        // KVM's and vhost's kernel threads work for the VMs: the hypervisor's, not a host process's.
        bool hypervisor = comm.StartsWith("kvm", StringComparison.Ordinal) || comm.StartsWith("vhost", StringComparison.Ordinal);
        return (comm, hypervisor ? EpisodeCulpritKind.Hypervisor : EpisodeCulpritKind.Host);
    }

    private static string CpuAdvice(string vm, double severity, List<EpisodeCulprit> culprits)
    {
        string lost = Percent(severity);
        if (culprits.Count == 0)
            return $"{vm} lost {lost} of the CPU time its vCPUs wanted, to threads beyond the top interferers: run analyze with a larger --top to name them.";
        var top = culprits[0];
        string share = Percent(top.Share);
        return top.Kind switch
        {
            EpisodeCulpritKind.Vm =>
                $"{vm} lost {lost} of the CPU time its vCPUs wanted; VM {top.Name} took {share} of it: pin the two VMs' vCPUs to separate pCPUs " +
                $"(cpuset, virsh vcpupin), or give {top.Name} lower CPU shares or a quota (cpu.weight, cpu.max), or move {top.Name} to another host.",
            EpisodeCulpritKind.Host =>
                $"{vm} lost {lost} of the CPU time its vCPUs wanted; host process {top.Name} took {share} of it: cap it (cgroup cpu.max, nice) " +
                $"or keep it off {vm}'s pCPUs (cpuset, taskset).",
            _ =>
                $"{vm} lost {lost} of the CPU time its vCPUs wanted; hypervisor thread {top.Name} took {share} of it: pin it to pCPUs " +
                $"{vm}'s vCPUs do not use, and check which VM's I/O keeps it busy.",
        };
    }

    // ---- exits ----

    private void OnExits(VmState vm, WindowMetrics window, VmMetrics metrics)
    {
        if (vm.SeenUntil != long.MinValue && vm.SeenUntil != window.StartNs)
        {
            foreach (var x in vm.Exits)
                CloseStorm(vm, x);
        }
        double seconds = window.LengthNs / 1e9;
        if (seconds <= 0)
            return;
        vm.ExitWindows++;
        foreach (var m in metrics.Exits)
        {
            if (FindExit(vm, m.Reason) is null)
                vm.Exits.Add(new ExitState { Reason = m.Reason, Isa = m.Isa });
        }
        var t = metrics.VcpuTimes;
        long wanted = t.OnCpuNs + t.PreemptedNs + t.WaitNs;
        foreach (var x in vm.Exits)
        {
            ExitMetrics? m = null;
            foreach (var candidate in metrics.Exits)
            {
                if (candidate.Reason == x.Reason)
                {
                    m = candidate;
                    break;
                }
            }
            long count = m?.Latency.Count ?? 0;
            double rate = count / seconds;
            bool storm = vm.ExitWindows > EpisodeRules.ExitBaselineWindows
                && rate >= EpisodeRules.ExitStormRatio * x.BaselinePerSecond
                && rate >= EpisodeRules.ExitStormMinRatePerSecond;
            if (!storm)
            {
                CloseStorm(vm, x);
                double weight = vm.ExitWindows <= EpisodeRules.ExitBaselineWindows ? 1.0 / vm.ExitWindows : EpisodeRules.ExitBaselineWeight;
                x.BaselinePerSecond += weight * (rate - x.BaselinePerSecond);
                continue;
            }
            var s = x.Storm ??= new ExitStorm { StartNs = window.StartNs, BaselinePerSecond = x.BaselinePerSecond };
            s.EndNs = window.EndNs;
            s.Windows++;
            s.Exits += count;
            double excess = Math.Max(0, count - s.BaselinePerSecond * seconds);
            s.ExcessExits += excess;
            s.ExcessNs += m is null || count == 0 ? 0 : excess * ((double)m.Latency.SumNs / count);
            s.WantedNs += wanted;
            s.PeakRatePerSecond = Math.Max(s.PeakRatePerSecond, rate);
        }
    }

    private static ExitState? FindExit(VmState vm, int reason)
    {
        foreach (var x in vm.Exits)
        {
            if (x.Reason == reason)
                return x;
        }
        return null;
    }

    private void CloseStorm(VmState vm, ExitState x)
    {
        if (x.Storm is not { } s)
            return;
        x.Storm = null;
        double seconds = (s.EndNs - s.StartNs) / 1e9;
        double rate = seconds > 0 ? s.Exits / seconds : 0;
        double severity = s.WantedNs > 0 ? Math.Min(1, s.ExcessNs / s.WantedNs) : 0;
        string reason = ExitReasons.Describe(x.Isa, x.Reason);
        EpisodeFigure[] evidence =
        [
            new("reason", x.Reason), new("exits", s.Exits), new("rate_per_s", rate), new("baseline_per_s", s.BaselinePerSecond),
            new("peak_rate_per_s", s.PeakRatePerSecond), new("excess_exits", s.ExcessExits), new("excess_handling_ns", s.ExcessNs),
            new("wanted_ns", s.WantedNs), new("windows", s.Windows),
        ];
        _closed.Add(new Episode(vm.Name, EpisodeResource.Exits, s.StartNs, s.EndNs, severity,
            [new EpisodeCulprit(reason, EpisodeCulpritKind.Hypervisor, 1)], evidence, ExitAdvice(vm.Name, x, rate, s.BaselinePerSecond)));
    }

    private static string ExitAdvice(string vm, ExitState x, double rate, double baseline)
    {
        string reason = ExitReasons.Describe(x.Isa, x.Reason);
        string figures = baseline > 0
            ? $"{vm} exited for {reason} {Rate(rate)}/s, {(rate / baseline).ToString("0.#", CultureInfo.InvariantCulture)}× its own baseline of {Rate(baseline)}/s"
            : $"{vm} exited for {reason} {Rate(rate)}/s where it had none before";
        string check = ExitReasons.Name(x.Isa, x.Reason) switch
        {
            "HLT" => "the guest halts and is woken very often: look for a guest timer or interrupt storm; halt polling (halt_poll_ns) trades CPU for fewer wake-ups",
            "EXTERNAL_INTERRUPT" or "INTR" => "host interrupts land on the VM's pCPUs: move their IRQ affinity to pCPUs the vCPUs do not use",
            "EPT_VIOLATION" or "NPF" => "the guest faults on memory the host has not mapped: back it with hugepages, check for host memory pressure or ballooning",
            "EPT_MISCONFIG" or "IO_INSTRUCTION" or "IOIO" => "the guest hits emulated device registers (MMIO/port I/O): use virtio devices with vhost",
            "MSR_READ" or "MSR_WRITE" or "MSR" => "the guest reads or writes MSRs (often timers, APIC): give it x2APIC and the TSC-deadline timer, check its clocksource",
            "PAUSE_INSTRUCTION" or "PAUSE" => "the guest's vCPUs spin on locks held by preempted vCPUs: overcommitted vCPUs; pin them or give the VM fewer vCPUs",
            "CPUID" or "RDTSC" or "RDTSCP" => "the guest executes trapping instructions in a loop: check what in the guest runs them",
            _ => "check this exit reason's cause in the guest (vmtrace kvm-stat gives its latencies)",
        };
        return figures + ": " + check + ".";
    }

    private static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + " %";

    private static string Rate(double perSecond) => perSecond.ToString("0", CultureInfo.InvariantCulture);

    // ---- checkpoint ----

    internal void WriteCheckpoint(SectionWriter w)
    {
        w.Count(_vms.Count);
        foreach (var vm in _vms)
        {
            w.String(vm.Name);
            w.Int64(vm.SeenUntil);
            w.Int64(vm.ExitWindows);
            w.Bool(vm.Cpu is not null);
            if (vm.Cpu is { } e)
            {
                w.Int64(e.StartNs);
                w.Int64(e.EndNs);
                w.Int64(e.Windows);
                w.Int64(e.WantedNs);
                w.Int64(e.LostNs);
                w.Int64(e.PreemptedNs);
                w.Int64(e.WaitNs);
                w.Int64(e.AttributedNs);
                w.Double(e.PeakSeverity);
                w.Count(e.Culprits.Count);
                foreach (var (name, ns) in e.Culprits)
                {
                    w.String(name);
                    w.Int64(ns);
                }
            }
            w.Count(vm.Exits.Count);
            foreach (var x in vm.Exits)
            {
                w.Int32(x.Reason);
                w.Byte((byte)x.Isa);
                w.Double(x.BaselinePerSecond);
                w.Bool(x.Storm is not null);
                if (x.Storm is { } s)
                {
                    w.Int64(s.StartNs);
                    w.Int64(s.EndNs);
                    w.Int64(s.Windows);
                    w.Int64(s.Exits);
                    w.Double(s.BaselinePerSecond);
                    w.Double(s.ExcessExits);
                    w.Double(s.ExcessNs);
                    w.Int64(s.WantedNs);
                    w.Double(s.PeakRatePerSecond);
                }
            }
            WriteDiskNetCheckpoint(w, vm);
        }
        w.Count(_closed.Count);
        foreach (var episode in _closed)
            WriteEpisode(w, episode);
    }

    internal void ReadCheckpoint(SectionReader r)
    {
        int vms = r.Count(20);
        for (int i = 0; i < vms; i++)
        {
            var vm = new VmState(r.String()) { SeenUntil = r.Int64(), ExitWindows = r.Int64() };
            if (!_byName.TryAdd(vm.Name, vm))
                throw r.Damaged("episode state of VM " + vm.Name + " twice");
            _vms.Add(vm);
            if (r.Bool())
            {
                var e = new CpuEpisode
                {
                    StartNs = r.Int64(), EndNs = r.Int64(), Windows = r.Int64(), WantedNs = r.Int64(), LostNs = r.Int64(),
                    PreemptedNs = r.Int64(), WaitNs = r.Int64(), AttributedNs = r.Int64(), PeakSeverity = r.Double(),
                };
                int culprits = r.Count(9);
                for (int c = 0; c < culprits; c++)
                    e.Add(r.String(), r.Int64());
                vm.Cpu = e;
            }
            int exits = r.Count(14);
            for (int k = 0; k < exits; k++)
            {
                var x = new ExitState { Reason = r.Int32(), Isa = (ExitIsa)r.Enum("exit ISA", (byte)ExitIsa.Svm), BaselinePerSecond = r.Double() };
                if (r.Bool())
                {
                    x.Storm = new ExitStorm
                    {
                        StartNs = r.Int64(), EndNs = r.Int64(), Windows = r.Int64(), Exits = r.Int64(), BaselinePerSecond = r.Double(),
                        ExcessExits = r.Double(), ExcessNs = r.Double(), WantedNs = r.Int64(), PeakRatePerSecond = r.Double(),
                    };
                }
                vm.Exits.Add(x);
            }
            ReadDiskNetCheckpoint(r, vm);
        }
        int closed = r.Count(30);
        for (int i = 0; i < closed; i++)
            _closed.Add(ReadEpisode(r));
    }

    private static void WriteEpisode(SectionWriter w, Episode e)
    {
        w.String(e.Vm);
        w.String(e.Resource);
        w.Int64(e.StartNs);
        w.Int64(e.EndNs);
        w.Double(e.Severity);
        w.Count(e.Culprits.Count);
        foreach (var c in e.Culprits)
        {
            w.String(c.Name);
            w.String(c.Kind);
            w.Double(c.Share);
        }
        w.Count(e.Evidence.Count);
        foreach (var f in e.Evidence)
        {
            w.String(f.Name);
            w.Double(f.Value);
        }
        w.String(e.Advice);
    }

    private static Episode ReadEpisode(SectionReader r)
    {
        string vm = r.String(), resource = r.String();
        long start = r.Int64(), end = r.Int64();
        double severity = r.Double();
        var culprits = new EpisodeCulprit[r.Count(10)];
        for (int i = 0; i < culprits.Length; i++)
            culprits[i] = new EpisodeCulprit(r.String(), r.String(), r.Double());
        var evidence = new EpisodeFigure[r.Count(9)];
        for (int i = 0; i < evidence.Length; i++)
            evidence[i] = new EpisodeFigure(r.String(), r.Double());
        return new Episode(vm, resource, start, end, severity, culprits, evidence, r.String());
    }

    private sealed class VmState(string name)
    {
        public string Name { get; } = name;
        /// <summary>End of the last window the VM was in (long.MinValue before any).</summary>
        public long SeenUntil = long.MinValue;
        public long ExitWindows;
        public CpuEpisode? Cpu;
        public readonly List<ExitState> Exits = [];
        /// <summary>disk: the VM has shown qemu-layer requests (only that layer is compared from then on).</summary>
        public bool DiskQemuLayer;
        /// <summary>disk: windows that started the baseline (up to <see cref="EpisodeRules.DiskBaselineWindows"/>), their requests, and the baseline mean latency (ns).</summary>
        public long DiskBaselineWindows, DiskBaselineRequests;
        public double DiskBaselineNs;
        public DiskEpisode? Disk;
        public NetEpisode? Net;
    }

    private sealed class CpuEpisode
    {
        public long StartNs, EndNs, Windows, WantedNs, LostNs, PreemptedNs, WaitNs, AttributedNs;
        public double PeakSeverity;
        /// <summary>Preempted ns by culprit, in first-seen order.</summary>
        public readonly List<(string Name, long Ns)> Culprits = [];

        /// <summary>Preempted ns charged to others so far.</summary>
        public long ForeignNs
        {
            get
            {
                long sum = 0;
                foreach (var (_, ns) in Culprits)
                    sum += ns;
                return sum;
            }
        }

        public long NsOf(string name)
        {
            foreach (var (n, ns) in Culprits)
            {
                if (n == name)
                    return ns;
            }
            return 0;
        }

        public void Add(string name, long ns)
        {
            for (int i = 0; i < Culprits.Count; i++)
            {
                if (Culprits[i].Name == name)
                {
                    Culprits[i] = (name, Culprits[i].Ns + ns);
                    return;
                }
            }
            Culprits.Add((name, ns));
        }
    }

    private sealed class ExitState
    {
        public int Reason;
        public ExitIsa Isa;
        public double BaselinePerSecond;
        public ExitStorm? Storm;
    }

    private sealed class ExitStorm
    {
        public long StartNs, EndNs, Windows, Exits, WantedNs;
        public double BaselinePerSecond, ExcessExits, ExcessNs, PeakRatePerSecond;
    }
}
