using System.Globalization;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis;

/// <summary>
/// Disk episodes: windows in which a VM's requests took far longer than they take when it has the host's I/O path
/// to itself (its own quiet baseline), while other VMs or host threads had I/O in flight or took the pCPUs its I/O
/// threads need. Net episodes: windows in which the VM's vhost threads waited, runnable, for pCPUs others held.
/// </summary>
public sealed partial class EpisodeDetector
{
    /// <summary>The key of the host's own block I/O among a disk episode's culprits (no VM or comm is named so).</summary>
    private const string HostIoKey = "\0host-io";

    /// <summary>The name the host's own block I/O is shown by.</summary>
    public const string HostIoCulprit = "host block I/O";

    /// <summary>Open disk or net episodes (for tests).</summary>
    internal int OpenCountOf(string resource)
    {
        int n = 0;
        foreach (var vm in _vms)
        {
            if (resource == EpisodeResource.Disk ? vm.Disk is not null : resource == EpisodeResource.Net && vm.Net is not null)
                n++;
        }
        return n;
    }

    // ---- disk ----

    private void OnDisk(VmState vm, WindowMetrics window, VmMetrics metrics)
    {
        if (vm.Disk is { } open && open.EndNs != window.StartNs)
            CloseDisk(vm);
        // The latency the guest sees is qemu's (submit → complete through its thread pool); the block layer's when
        // qemu's own events are not traced. Once a VM has shown qemu-layer requests, only that layer is compared.
        if (metrics.QemuDisk.Completed > 0)
            vm.DiskQemuLayer = true;
        var own = vm.DiskQemuLayer ? metrics.QemuDisk : metrics.BlockDisk;
        long requests = own.Completed;
        if (requests < EpisodeRules.DiskMinRequests)
        {
            CloseDisk(vm);
            return;
        }
        double latency = (double)own.Latency.SumNs / requests;
        long ownDevice = DeviceBusyNs(metrics);
        long othersIo = 0, othersInFlight = 0;
        foreach (var other in window.Vms)
        {
            if (other.Vm == metrics.Vm)
                continue;
            othersIo += DeviceBusyNs(other);
            othersInFlight += Math.Max(other.BlockDisk.MaxInFlight, other.QemuDisk.MaxInFlight);
        }
        long hostIo = window.HostBlockDisk.Latency.SumNs;
        othersInFlight += window.HostBlockDisk.MaxInFlight;
        var (cpuWanted, cpuLost, _, _) = CpuLoss(metrics);
        bool ioShared = othersIo + hostIo > EpisodeRules.DiskQuietOthersShare * ownDevice;
        if (vm.DiskBaselineWindows < EpisodeRules.DiskBaselineWindows)
        {
            CloseDisk(vm);
            // The baseline starts as the request-weighted mean latency of the first windows no one else's I/O shared.
            if (!ioShared)
            {
                vm.DiskBaselineWindows++;
                vm.DiskBaselineRequests += requests;
                vm.DiskBaselineNs += ((double)own.Latency.SumNs - vm.DiskBaselineNs * requests) / vm.DiskBaselineRequests;
            }
            return;
        }
        double baseline = vm.DiskBaselineNs;
        double lost = (latency - baseline) * requests;
        // An open episode goes on at a lower inflation than one starts at: a window of the same contention a little below
        // the start ratio does not cut it in two.
        double ratio = vm.Disk is null ? EpisodeRules.DiskInflationRatio : EpisodeRules.DiskContinueRatio;
        bool inflated = latency >= ratio * baseline && lost >= EpisodeRules.DiskMinLostShareOfWindow * window.LengthNs;
        // Others took the pCPUs its I/O threads need (counted on its vCPUs: the same pCPUs) when they took enough to explain
        // the inflation: a request slowed only by losing a fraction f of its CPU takes at most 1 / (1 − f) as long, so
        // f ≥ 1 − 1 / ratio. Background noise on the host (a few % of the vCPUs' time) does not pass.
        bool cpuShared = cpuLost >= (1 - 1 / ratio) * cpuWanted && cpuLost >= EpisodeRules.CpuMinLostShareOfWindow * window.LengthNs;
        if (!inflated || !(ioShared || cpuShared))
        {
            CloseDisk(vm);
            // Not losing to anyone: the window's latency is the VM's own, and the baseline follows it.
            vm.DiskBaselineNs += EpisodeRules.DiskBaselineWeight * (latency - baseline);
            return;
        }
        var e = vm.Disk ??= new DiskEpisode { StartNs = window.StartNs, BaselineNs = baseline };
        e.EndNs = window.EndNs;
        e.Windows++;
        e.Requests += requests;
        e.WantedNs += own.Latency.SumNs;
        e.LostNs += lost;
        e.OthersIoNs += othersIo;
        e.HostIoNs += hostIo;
        e.OwnDeviceNs += ownDevice;
        e.CpuLostNs += cpuLost;
        e.PeakSeverity = Math.Max(e.PeakSeverity, lost / own.Latency.SumNs);
        e.PeakOthersInFlight = Math.Max(e.PeakOthersInFlight, othersInFlight);
        foreach (var other in window.Vms)
        {
            if (other.Vm != metrics.Vm && DeviceBusyNs(other) is > 0 and var busy)
                e.Culprits.Add(other.Vm, busy, 0);
        }
        if (hostIo > 0)
            e.Culprits.Add(HostIoKey, hostIo, 0);
        if (cpuShared)
        {
            foreach (var i in metrics.Interferers)
            {
                if (IsForeign(metrics.Vm, i.Culprit) && i.Culprit != MetricsMerge.Other)
                    e.Culprits.Add(i.Culprit, 0, i.PreemptedNs);
            }
        }
    }

    /// <summary>
    /// A VM's I/O time on the host's devices in the window: the summed latency of its block-layer requests (request-ns in
    /// flight); of its qemu-layer requests when it has none at the block layer (a file on a filesystem the trace does not show).
    /// </summary>
    private static long DeviceBusyNs(VmMetrics vm) =>
        vm.BlockDisk.Completed > 0 ? vm.BlockDisk.Latency.SumNs : vm.QemuDisk.Latency.SumNs;

    /// <summary>The CPU time the VM's vCPUs wanted in the window, what of it was lost to others (as the cpu rule counts it), the preempted time attributed and its part charged to others.</summary>
    private static (long Wanted, long LostToOthers, long Attributed, long Foreign) CpuLoss(VmMetrics metrics)
    {
        var t = metrics.VcpuTimes;
        long wanted = t.OnCpuNs + t.PreemptedNs + t.WaitNs;
        long lost = t.PreemptedNs + t.WaitNs;
        long attributed = 0, foreign = 0;
        foreach (var i in metrics.Interferers)
        {
            attributed += i.PreemptedNs;
            if (IsForeign(metrics.Vm, i.Culprit))
                foreign += i.PreemptedNs;
        }
        // The wake-up waits have no culprit of their own: they are apportioned like the preempted time.
        long lostToOthers = attributed > 0 ? (long)(lost * ((double)foreign / attributed)) : 0;
        return (wanted, lostToOthers, attributed, foreign);
    }

    private void CloseDisk(VmState vm)
    {
        if (vm.Disk is not { } e)
            return;
        vm.Disk = null;
        var culprits = e.Culprits.ToEpisodeCulprits(out var top);
        double severity = e.WantedNs > 0 ? Math.Min(1, e.LostNs / e.WantedNs) : 0;
        double latency = e.Requests > 0 ? (double)e.WantedNs / e.Requests : 0;
        EpisodeFigure[] evidence =
        [
            new("requests", e.Requests), new("latency_mean_ns", latency), new("baseline_latency_ns", e.BaselineNs),
            new("wanted_ns", e.WantedNs), new("lost_ns", e.LostNs), new("own_io_ns", e.OwnDeviceNs), new("others_io_ns", e.OthersIoNs),
            new("host_io_ns", e.HostIoNs), new("others_peak_in_flight", e.PeakOthersInFlight), new("cpu_lost_to_others_ns", e.CpuLostNs),
            new("qemu_layer", vm.DiskQemuLayer ? 1 : 0), new("peak_window_severity", e.PeakSeverity), new("windows", e.Windows),
        ];
        _closed.Add(new Episode(vm.Name, EpisodeResource.Disk, e.StartNs, e.EndNs, severity, culprits, evidence,
            DiskAdvice(vm.Name, severity, latency, e.BaselineNs, culprits, top)));
    }

    private static string DiskAdvice(string vm, double severity, double latency, double baseline, List<EpisodeCulprit> culprits, CulpritTime? top)
    {
        string figures = $"{vm} lost {Percent(severity)} of its disk request time to waiting: {Milliseconds(latency)} per request " +
            $"against its own baseline of {Milliseconds(baseline)}";
        if (culprits.Count == 0 || top is not { } t)
            return figures + ", with no one else's I/O or CPU use seen beside it (look for device-side slowness: the device's own queue, its cache, a failing disk).";
        var c = culprits[0];
        string share = Percent(c.Share);
        if (t.IoNs >= t.CpuNs)
        {
            return c.Kind == EpisodeCulpritKind.Vm
                ? $"{figures}; VM {c.Name} had {share} of the I/O and CPU time beside it on the same host: throttle {c.Name}'s disk " +
                  $"(virsh blkdeviotune, qemu throttling.bps-total/iops-total, cgroup io.max) or put the two VMs' images on separate devices."
                : $"{figures}; host threads' own block I/O had {share} of the I/O and CPU time beside it: cap it (cgroup io.max, ionice -c3) " +
                  $"or move it off {vm}'s device.";
        }
        return c.Kind switch
        {
            EpisodeCulpritKind.Vm =>
                $"{figures}; VM {c.Name} took {share} of it as CPU time from {vm}'s vCPUs and I/O threads (qemu's main loop and workers run the requests): " +
                $"pin {vm}'s emulator and I/O threads (virsh emulatorpin, iothreadpin) to pCPUs {c.Name}'s vCPUs do not use, or lower {c.Name}'s CPU shares (cpu.weight).",
            EpisodeCulpritKind.Host =>
                $"{figures}; host process {c.Name} took {share} of it as CPU time from {vm}'s threads: cap it (cgroup cpu.max, nice) or keep it off {vm}'s pCPUs (taskset, cpuset).",
            _ =>
                $"{figures}; hypervisor thread {c.Name} took {share} of it as CPU time from {vm}'s threads: pin it to pCPUs {vm}'s threads do not use.",
        };
    }

    // ---- net ----

    private void OnNet(VmState vm, WindowMetrics window, VmMetrics metrics)
    {
        if (vm.Net is { } open && open.EndNs != window.StartNs)
            CloseNet(vm);
        var n = metrics.Network;
        long wanted = n.VhostBusyNs + n.VhostWaitNs;
        long packets = n.RxPackets + n.TxPackets;
        if (wanted <= 0 || packets < EpisodeRules.NetMinPackets)
        {
            CloseNet(vm);
            return;
        }
        // The vhost thread's waits are shared out like the vCPUs' preempted time: both wait for the same pCPUs.
        var (_, _, attributed, foreign) = CpuLoss(metrics);
        double lost = attributed > 0 ? n.VhostWaitNs * ((double)foreign / attributed) : 0;
        bool contended = lost >= EpisodeRules.NetMinWindowSeverity * wanted && lost >= EpisodeRules.NetMinLostShareOfWindow * window.LengthNs;
        if (!contended)
        {
            CloseNet(vm);
            return;
        }
        var e = vm.Net ??= new NetEpisode { StartNs = window.StartNs };
        e.EndNs = window.EndNs;
        e.Windows++;
        e.Packets += packets;
        e.Bytes += n.RxBytes + n.TxBytes;
        e.BusyNs += n.VhostBusyNs;
        e.WaitNs += n.VhostWaitNs;
        e.LostNs += lost;
        e.PeakSeverity = Math.Max(e.PeakSeverity, lost / wanted);
        foreach (var i in metrics.Interferers)
        {
            if (IsForeign(metrics.Vm, i.Culprit) && i.Culprit != MetricsMerge.Other)
                e.Culprits.Add(i.Culprit, 0, i.PreemptedNs);
        }
    }

    private void CloseNet(VmState vm)
    {
        if (vm.Net is not { } e)
            return;
        vm.Net = null;
        var culprits = e.Culprits.ToEpisodeCulprits(out _);
        double wanted = e.BusyNs + e.WaitNs;
        double severity = wanted > 0 ? Math.Min(1, e.LostNs / wanted) : 0;
        EpisodeFigure[] evidence =
        [
            new("packets", e.Packets), new("bytes", e.Bytes), new("vhost_busy_ns", e.BusyNs), new("vhost_wait_ns", e.WaitNs),
            new("wanted_ns", wanted), new("lost_ns", e.LostNs), new("peak_window_severity", e.PeakSeverity), new("windows", e.Windows),
        ];
        _closed.Add(new Episode(vm.Name, EpisodeResource.Net, e.StartNs, e.EndNs, severity, culprits, evidence, NetAdvice(vm.Name, severity, culprits)));
    }

    private static string NetAdvice(string vm, double severity, List<EpisodeCulprit> culprits)
    {
        string figures = $"{vm}'s vhost thread, moving its packets, waited for a pCPU {Percent(severity)} of the time it wanted";
        if (culprits.Count == 0)
            return figures + ", to threads beyond the top interferers: run analyze with a larger --top to name them.";
        var c = culprits[0];
        string share = Percent(c.Share);
        return c.Kind switch
        {
            EpisodeCulpritKind.Vm =>
                $"{figures}; VM {c.Name} held {share} of the pCPU time taken from {vm}: pin {vm}'s vhost thread to a pCPU {c.Name}'s vCPUs do not use " +
                $"(taskset, cpuset), or lower {c.Name}'s CPU shares (cpu.weight).",
            EpisodeCulpritKind.Host =>
                $"{figures}; host process {c.Name} held {share} of the pCPU time taken from {vm}: cap it (cgroup cpu.max, nice) or keep it off the pCPUs of {vm}'s vhost thread.",
            _ =>
                $"{figures}; hypervisor thread {c.Name} held {share} of the pCPU time taken from {vm}: spread the vhost and KVM threads over more pCPUs (multiqueue virtio-net gives a VM one vhost thread per queue).",
        };
    }

    private static string Milliseconds(double ns) => (ns / 1e6).ToString("0.###", CultureInfo.InvariantCulture) + " ms";

    // ---- state ----

    private void WriteDiskNetCheckpoint(SectionWriter w, VmState vm)
    {
        w.Bool(vm.DiskQemuLayer);
        w.Int64(vm.DiskBaselineWindows);
        w.Int64(vm.DiskBaselineRequests);
        w.Double(vm.DiskBaselineNs);
        w.Bool(vm.Disk is not null);
        if (vm.Disk is { } d)
        {
            w.Int64(d.StartNs);
            w.Int64(d.EndNs);
            w.Int64(d.Windows);
            w.Int64(d.Requests);
            w.Int64(d.WantedNs);
            w.Double(d.LostNs);
            w.Double(d.BaselineNs);
            w.Int64(d.OwnDeviceNs);
            w.Int64(d.OthersIoNs);
            w.Int64(d.HostIoNs);
            w.Int64(d.CpuLostNs);
            w.Int64(d.PeakOthersInFlight);
            w.Double(d.PeakSeverity);
            d.Culprits.WriteTo(w);
        }
        w.Bool(vm.Net is not null);
        if (vm.Net is { } n)
        {
            w.Int64(n.StartNs);
            w.Int64(n.EndNs);
            w.Int64(n.Windows);
            w.Int64(n.Packets);
            w.Int64(n.Bytes);
            w.Int64(n.BusyNs);
            w.Int64(n.WaitNs);
            w.Double(n.LostNs);
            w.Double(n.PeakSeverity);
            n.Culprits.WriteTo(w);
        }
    }

    private static void ReadDiskNetCheckpoint(SectionReader r, VmState vm)
    {
        vm.DiskQemuLayer = r.Bool();
        vm.DiskBaselineWindows = r.Int64();
        vm.DiskBaselineRequests = r.Int64();
        vm.DiskBaselineNs = r.Double();
        if (r.Bool())
        {
            vm.Disk = new DiskEpisode
            {
                StartNs = r.Int64(), EndNs = r.Int64(), Windows = r.Int64(), Requests = r.Int64(), WantedNs = r.Int64(), LostNs = r.Double(),
                BaselineNs = r.Double(), OwnDeviceNs = r.Int64(), OthersIoNs = r.Int64(), HostIoNs = r.Int64(), CpuLostNs = r.Int64(),
                PeakOthersInFlight = r.Int64(), PeakSeverity = r.Double(),
            };
            vm.Disk.Culprits.ReadFrom(r);
        }
        if (r.Bool())
        {
            vm.Net = new NetEpisode
            {
                StartNs = r.Int64(), EndNs = r.Int64(), Windows = r.Int64(), Packets = r.Int64(), Bytes = r.Int64(), BusyNs = r.Int64(),
                WaitNs = r.Int64(), LostNs = r.Double(), PeakSeverity = r.Double(),
            };
            vm.Net.Culprits.ReadFrom(r);
        }
    }

    private sealed class DiskEpisode
    {
        public long StartNs, EndNs, Windows, Requests, WantedNs, OwnDeviceNs, OthersIoNs, HostIoNs, CpuLostNs, PeakOthersInFlight;
        public double LostNs, BaselineNs, PeakSeverity;
        public readonly CulpritTimes Culprits = new();
    }

    private sealed class NetEpisode
    {
        public long StartNs, EndNs, Windows, Packets, Bytes, BusyNs, WaitNs;
        public double LostNs, PeakSeverity;
        public readonly CulpritTimes Culprits = new();
    }

    /// <summary>A culprit's time over an episode: I/O time in flight beside the VM's, and pCPU time taken from the VM's threads.</summary>
    private readonly record struct CulpritTime(string Key, long IoNs, long CpuNs)
    {
        public long Ns => IoNs + CpuNs;
    }

    /// <summary>Culprits' times by key (a VM's name, <c>host:comm</c>, or <see cref="HostIoKey"/>), in first-seen order.</summary>
    private sealed class CulpritTimes
    {
        private readonly List<CulpritTime> _items = [];

        public void Add(string key, long ioNs, long cpuNs)
        {
            for (int i = 0; i < _items.Count; i++)
            {
                if (_items[i].Key == key)
                {
                    _items[i] = _items[i] with { IoNs = _items[i].IoNs + ioNs, CpuNs = _items[i].CpuNs + cpuNs };
                    return;
                }
            }
            _items.Add(new CulpritTime(key, ioNs, cpuNs));
        }

        /// <summary>The culprits as written, largest share first (share = its time / all culprits' time), and the largest one's times.</summary>
        public List<EpisodeCulprit> ToEpisodeCulprits(out CulpritTime? top)
        {
            long total = 0;
            foreach (var c in _items)
                total += c.Ns;
            var ranked = new List<CulpritTime>(_items);
            ranked.Sort(static (a, b) => a.Ns != b.Ns ? b.Ns.CompareTo(a.Ns) : string.CompareOrdinal(a.Key, b.Key));
            var culprits = new List<EpisodeCulprit>(ranked.Count);
            foreach (var c in ranked)
            {
                var (name, kind) = c.Key == HostIoKey ? (HostIoCulprit, EpisodeCulpritKind.Host) : CulpritOf(c.Key);
                culprits.Add(new EpisodeCulprit(name, kind, total > 0 ? (double)c.Ns / total : 0));
            }
            top = ranked.Count > 0 ? ranked[0] : null;
            return culprits;
        }

        public void WriteTo(SectionWriter w)
        {
            w.Count(_items.Count);
            foreach (var c in _items)
            {
                w.String(c.Key);
                w.Int64(c.IoNs);
                w.Int64(c.CpuNs);
            }
        }

        public void ReadFrom(SectionReader r)
        {
            int n = r.Count(17);
            for (int i = 0; i < n; i++)
                Add(r.String(), r.Int64(), r.Int64());
        }
    }
}
