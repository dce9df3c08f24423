using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary>
/// One VM in one refresh of <c>vmtrace top</c>: the figures of the analysis core's <see cref="VmMetrics"/> for the
/// window (the same as <c>analyze --window</c> gives), and the rates and shares derived from them for display.
/// Shares of vCPU time are of the window's length × the VM's vCPUs; steal is the guest's steal time (the kernel's
/// run-queue wait, <see cref="CpuTimes.RunDelayNs"/>). Disk is the qemu thread-pool layer when the trace has it,
/// else the host block layer (<see cref="DiskLayer"/> says which): the two see the same requests.
/// </summary>
internal sealed record TopRow(string Vm, int Pid, int Vcpus, VmMetrics Metrics, long WindowNs)
{
    /// <summary>Exit reasons shown per VM.</summary>
    public const int TopExitReasons = 3;

    public static TopRow Of(VmMetrics vm, long windowNs) => new(vm.Vm, vm.Pid, vm.Vcpus.Count, vm, windowNs);

    /// <summary>The VM's latest interference episode that has closed by the end of this window, if any.</summary>
    public Episode? LastEpisode { get; init; }

    public CpuTimes Times => Metrics.VcpuTimes;

    public double CpuPercent => Metrics.PcpuShare * 100;

    public long StealNs => Times.RunDelayNs;

    public double GuestPercent => OfVcpuTime(Times.GuestNs);

    public double HostPercent => OfVcpuTime(Times.HostNs);

    public double PreemptedPercent => OfVcpuTime(Times.PreemptedNs);

    public double StealPercent => OfVcpuTime(StealNs);

    public long Exits => Metrics.ExitCount;

    public double ExitsPerSecond => PerSecond(Exits);

    /// <summary>The most frequent exit reasons, most first (ties by reason number).</summary>
    public IEnumerable<ExitMetrics> TopExits =>
        Metrics.Exits.OrderByDescending(x => x.Latency.Count).ThenBy(x => x.Reason).Take(TopExitReasons);

    public string DiskLayer => Metrics.QemuDisk.IsEmpty && !Metrics.BlockDisk.IsEmpty ? "block" : "qemu";

    public DiskLayerMetrics Disk => DiskLayer == "block" ? Metrics.BlockDisk : Metrics.QemuDisk;

    public long DiskBytes => Disk.ReadBytes + Disk.WriteBytes;

    public double DiskReadBytesPerSecond => PerSecond(Disk.ReadBytes);

    public double DiskWriteBytesPerSecond => PerSecond(Disk.WriteBytes);

    public double DiskRequestsPerSecond => PerSecond(Disk.Completed);

    public NetworkMetrics Network => Metrics.Network;

    public long NetBytes => Network.RxBytes + Network.TxBytes;

    public double NetRxBytesPerSecond => PerSecond(Network.RxBytes);

    public double NetTxBytesPerSecond => PerSecond(Network.TxBytes);

    private double PerSecond(long count) => WindowNs <= 0 ? 0 : count * 1e9 / WindowNs;

    private double OfVcpuTime(long ns) => WindowNs <= 0 || Vcpus == 0 ? 0 : 100.0 * ns / ((double)WindowNs * Vcpus);
}

/// <summary>
/// One refresh of <c>vmtrace top</c>: a closed window and its VMs' rows, sorted and filtered, and the interference episodes
/// (of those VMs) that closed with it, worst first.
/// </summary>
internal sealed record TopFrame(long StartNs, long EndNs, int CpuCount, IReadOnlyList<TopRow> Rows)
{
    public static readonly string[] SortKeys = ["cpu", "exits", "steal", "disk", "net", "name"];

    public IReadOnlyList<Episode> Episodes { get; init; } = [];

    public long LengthNs => EndNs - StartNs;

    /// <summary>
    /// The refresh of window <paramref name="w"/>, with the <paramref name="episodes"/> that closed with it; each VM's row
    /// carries its latest closed episode from <paramref name="latest"/> (updated here with those episodes).
    /// </summary>
    public static TopFrame Of(WindowMetrics w, IReadOnlyList<Episode> episodes, Dictionary<string, Episode> latest, string sort, HashSet<string>? vms)
    {
        foreach (var e in episodes.OrderBy(e => e.EndNs).ThenBy(e => e.StartNs))
            latest[e.Vm] = e;
        var rows = w.Vms.Where(v => vms is null || vms.Contains(v.Vm))
            .Select(v => TopRow.Of(v, w.LengthNs) with { LastEpisode = latest.GetValueOrDefault(v.Vm) });
        return new TopFrame(w.StartNs, w.EndNs, w.CpuCount, Sort(rows, sort).ToList())
        {
            Episodes = [.. episodes.Where(e => vms is null || vms.Contains(e.Vm)).OrderByDescending(e => e.Severity).ThenBy(e => e.StartNs)
                .ThenBy(e => e.Vm, StringComparer.Ordinal).ThenBy(e => e.Resource, StringComparer.Ordinal)],
        };
    }

    /// <summary>Biggest first on the key (name: alphabetical); ties by name.</summary>
    private static IEnumerable<TopRow> Sort(IEnumerable<TopRow> rows, string sort) => sort switch
    {
        "exits" => rows.OrderByDescending(r => r.Exits).ThenBy(r => r.Vm, StringComparer.Ordinal),
        "steal" => rows.OrderByDescending(r => r.StealNs).ThenBy(r => r.Vm, StringComparer.Ordinal),
        "disk" => rows.OrderByDescending(r => r.DiskBytes).ThenBy(r => r.Vm, StringComparer.Ordinal),
        "net" => rows.OrderByDescending(r => r.NetBytes).ThenBy(r => r.Vm, StringComparer.Ordinal),
        "name" => rows.OrderBy(r => r.Vm, StringComparer.Ordinal),
        _ => rows.OrderByDescending(r => r.Metrics.PcpuShare).ThenBy(r => r.Vm, StringComparer.Ordinal),
    };
}
