using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis.Tests.Episodes;

/// <summary>
/// The disk and net episode rules on hand-built window sequences (1 s windows, microseconds written as µs below; every
/// expected figure worked out in the comment beside it). A disk window names the VM's completed requests and their mean
/// latency, the same at qemu's layer and the block layer unless said.
/// </summary>
public class DiskNetEpisodeTests
{
    private const long S = 1_000_000_000;
    private const long Us = 1_000;
    private const long Ms = 1_000_000;

    /// <summary>A layer's figures: <paramref name="requests"/> completed at a mean latency of <paramref name="meanNs"/>, at most <paramref name="maxInFlight"/> open at once.</summary>
    private static DiskLayerMetrics Disk(long requests, long meanNs, long maxInFlight = 1) => requests == 0 ? DiskLayerMetrics.Empty
        : new(requests, requests, requests, 0, requests * 4096, 0, new LatencyMetrics(requests, requests * meanNs, meanNs, meanNs, new LatencyHistogram()),
            default, default, 0, maxInFlight);

    /// <summary>
    /// One VM in one window: its disk requests (both layers alike unless <paramref name="block"/> is given), its vCPUs' on-CPU and
    /// preempted ns with who preempted them, and its network.
    /// </summary>
    private static VmMetrics Vm(string name, long requests = 0, long meanNs = 0, DiskLayerMetrics? block = null, long onCpu = 0, long preempted = 0,
        (string Culprit, long Ns)[]? by = null, NetworkMetrics? net = null) =>
        new(name, 1, "test", new CpuTimes(0, onCpu, preempted, 0, 0, 0), onCpu, 0, 1, [], [], Disk(requests, meanNs), block ?? Disk(requests, meanNs),
            net ?? NetworkMetrics.Empty, (by ?? []).Select(b => new Interference(b.Culprit, b.Ns)).ToList());

    private static WindowMetrics Window(int second, params VmMetrics[] vms) => new(second * S, (second + 1) * S, 2, vms);

    private static List<Episode> Run(IEnumerable<WindowMetrics> windows)
    {
        var d = new EpisodeDetector();
        var episodes = new List<Episode>();
        foreach (var w in windows)
        {
            d.OnWindow(w);
            episodes.AddRange(d.TakeClosed());
        }
        d.Finish();
        episodes.AddRange(d.TakeClosed());
        return episodes;
    }

    [Fact]
    public void Disk_AnotherVmsIoArrives_EpisodeFromItsFirstWindowNamingItWithThrottleAdvice()
    {
        // 0–2: vmA alone, 1000 requests at 200 µs (baseline 200 µs). 3–5: vmB's 1000 requests at 300 µs share the device
        // (300 ms of I/O time against vmA's 500 ms: > 10 %), and vmA's requests take 500 µs (2.5× the baseline). 6: alone again.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us)))
            .Concat(Enumerable.Range(3, 3).Select(s => Window(s, Vm("vmA", 1000, 500 * Us), Vm("vmB", 1000, 300 * Us))))
            .Append(Window(6, Vm("vmA", 1000, 200 * Us)))
            .ToList();
        // vmB's own first windows are shared with vmA's I/O: they start no baseline, so vmB has no episode.
        var e = Assert.Single(Run(windows));
        Assert.Equal(("vmA", "disk", 3 * S, 6 * S), (e.Vm, e.Resource, e.StartNs, e.EndNs));
        // lost 3 × (500 − 200) µs × 1000 = 900 ms of 3 × 500 µs × 1000 = 1500 ms wanted.
        Assert.Equal(0.6, e.Severity, 12);
        Assert.Equal(new EpisodeCulprit("vmB", "vm", 1), Assert.Single(e.Culprits));
        Assert.Equal(200 * Us, e.Figure("baseline_latency_ns"), 6);
        Assert.Equal(500 * Us, e.Figure("latency_mean_ns"), 6);
        Assert.Equal(9e8, e.Figure("lost_ns"), 3);
        Assert.Equal(9e8, e.Figure("others_io_ns"));
        Assert.Equal(3000, e.Figure("requests"));
        Assert.Contains("throttle vmB's disk", e.Advice, StringComparison.Ordinal);
        Assert.Contains("0.5 ms per request against its own baseline of 0.2 ms", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Disk_LoneVmSteadyIoWithJitterAndHostCpuNoise_NoEpisode()
    {
        // vmA alone for 30 s: 800 requests a second at 180–260 µs (baseline ≈ 220 µs; the worst window is 1.18× it, under 1.5×),
        // while a host process takes 100 ms of its vCPUs' 1 s (the cpu rule's window test holds: 10 % and ≥ 20 ms; 1/3 it is not).
        long[] latencies = [220, 180, 260, 240, 200, 230, 190, 250, 210, 260];
        var windows = Enumerable.Range(0, 30).Select(s => Window(s,
            Vm("vmA", 800, latencies[s % latencies.Length] * Us, onCpu: 900 * Ms, preempted: 100 * Ms, by: [("host:bash", 100 * Ms)]))).ToList();
        Assert.DoesNotContain(Run(windows), e => e.Resource == EpisodeResource.Disk);
    }

    [Fact]
    public void Disk_SlowerWhileOthersTakeLessCpuThanTheInflationNeeds_NoEpisode()
    {
        // Baseline 200 µs; then 320 µs (1.6×) while a host process takes 250 ms of the vCPUs' 1 s: losing 25 % of its CPU
        // slows a request to at most 1 / 0.75 = 1.33×, not 1.5× (f would have to be ≥ 1 − 1/1.5 = 1/3); no one else's I/O.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us, onCpu: 1000 * Ms)))
            .Concat(Enumerable.Range(3, 3).Select(s => Window(s, Vm("vmA", 1000, 320 * Us, onCpu: 750 * Ms, preempted: 250 * Ms,
                by: [("host:backup", 250 * Ms)]))))
            .ToList();
        Assert.DoesNotContain(Run(windows), e => e.Resource == EpisodeResource.Disk);
        // The same with 400 ms taken (40 % ≥ 1/3): a disk episode naming the host process.
        var taken = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us, onCpu: 1000 * Ms)))
            .Append(Window(3, Vm("vmA", 1000, 320 * Us, onCpu: 600 * Ms, preempted: 400 * Ms, by: [("host:backup", 400 * Ms)])))
            .ToList();
        var e = Assert.Single(Run(taken), e => e.Resource == EpisodeResource.Disk);
        Assert.Equal(new EpisodeCulprit("backup", "host", 1), Assert.Single(e.Culprits));
        Assert.Contains("cpu.max", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Disk_AloneItsOwnRequestsGrowSlower_BaselineFollowsNoEpisode()
    {
        // 0–2 at 200 µs, then its own larger requests take 600 µs for 10 s with no one else's I/O or CPU use: its own doing.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us)))
            .Concat(Enumerable.Range(3, 10).Select(s => Window(s, Vm("vmA", 1000, 600 * Us))))
            .ToList();
        Assert.Empty(Run(windows));
    }

    [Fact]
    public void Disk_FewRequestsOrNoBaselineYet_NoEpisode()
    {
        // 9 requests a second (under the 10 counted) at 10× the latency, beside vmB's heavy I/O: too little demand to count.
        var few = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 9, 200 * Us)))
            .Concat(Enumerable.Range(3, 3).Select(s => Window(s, Vm("vmA", 9, 2000 * Us), Vm("vmB", 1000, 300 * Us))));
        Assert.Empty(Run(few));
        // Two quiet windows only (three start the baseline): the slow shared windows after them are not judged.
        var young = Enumerable.Range(0, 2).Select(s => Window(s, Vm("vmA", 1000, 200 * Us)))
            .Concat(Enumerable.Range(2, 3).Select(s => Window(s, Vm("vmA", 1000, 900 * Us), Vm("vmB", 1000, 300 * Us))));
        Assert.Empty(Run(young));
    }

    [Fact]
    public void Disk_CpuTakenFromItsIoPathByAnotherVm_EpisodeNamesItWithPinAdvice()
    {
        // 0–2: 1000 requests at 200 µs, nothing lost. 3–4: no one else's I/O, but vmC takes 400 ms of vmA's vCPUs' 1 s
        // (the cpu rule's window test holds) and vmA's requests take 400 µs.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us, onCpu: 1000 * Ms)))
            .Concat(Enumerable.Range(3, 2).Select(s => Window(s, Vm("vmA", 1000, 400 * Us, onCpu: 600 * Ms, preempted: 400 * Ms,
                by: [("vmC", 300 * Ms), ("host:bash", 100 * Ms)]))))
            .ToList();
        var e = Assert.Single(Run(windows), e => e.Resource == EpisodeResource.Disk);
        Assert.Equal((3 * S, 5 * S), (e.StartNs, e.EndNs));
        // lost 2 × 200 µs × 1000 = 400 ms of 2 × 400 ms wanted; culprits by pCPU time: vmC 600 ms, bash 200 ms of 800.
        Assert.Equal(0.5, e.Severity, 12);
        Assert.Equal([new EpisodeCulprit("vmC", "vm", 0.75), new EpisodeCulprit("bash", "host", 0.25)], e.Culprits);
        Assert.Equal(8e8, e.Figure("cpu_lost_to_others_ns"));
        Assert.Contains("emulatorpin", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Disk_HostThreadsOwnIo_NamedAsHostCulpritWithIoMaxAdvice()
    {
        // Baseline 250 µs from three windows alone; then host threads keep 120 ms of I/O in flight (> 10 % of vmA's 800 ms,
        // up to 16 requests at once) and vmA's 1000 requests take 800 µs.
        var host = new DiskLayerMetrics(400, 400, 0, 400, 0, 400 * 65536, new LatencyMetrics(400, 120 * Ms, 300 * Us, 300 * Us, new LatencyHistogram()),
            default, default, 2, 16);
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 250 * Us)))
            .Append(Window(3, Vm("vmA", 1000, 800 * Us)) with { HostBlockDisk = host })
            .ToList();
        var e = Assert.Single(Run(windows));
        // lost (800 − 250) µs × 1000 = 550 ms of 800 ms.
        Assert.Equal(0.6875, e.Severity, 12);
        Assert.Equal(new EpisodeCulprit(EpisodeDetector.HostIoCulprit, "host", 1), Assert.Single(e.Culprits));
        Assert.Equal(16, e.Figure("others_peak_in_flight"));
        Assert.Equal(1.2e8, e.Figure("host_io_ns"));
        Assert.Contains("io.max", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Disk_EpisodeGoesOnAbove125PercentButStartsOnlyAt150Percent()
    {
        // Baseline 200 µs. 3: 2× with vmB's I/O (starts). 4: 1.3× with vmB (goes on: ≥ 1.25×). 5: alone at 200 µs (ends).
        // 6: 1.3× with vmB again: not enough to start one.
        var shared = (int s, long us) => Window(s, Vm("vmA", 1000, us * Us), Vm("vmB", 1000, 300 * Us));
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us)))
            .Append(shared(3, 400)).Append(shared(4, 260)).Append(Window(5, Vm("vmA", 1000, 200 * Us))).Append(shared(6, 260)).ToList();
        var e = Assert.Single(Run(windows));
        Assert.Equal((3 * S, 5 * S), (e.StartNs, e.EndNs));
        // lost (200 + 60) µs × 1000 of (400 + 260) µs × 1000.
        Assert.Equal(260.0 / 660, e.Severity, 12);
    }

    [Fact]
    public void Disk_QemuLayerComparedOnceSeen_BlockLayerUsedWithoutQemuEvents()
    {
        // vmA has only block-layer figures (no qemu log): 100 µs alone, then 300 µs beside vmB's I/O.
        var blockOnly = (int s, long us) => Vm("vmA", 0, 0, block: Disk(1000, us * Us));
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, blockOnly(s, 100)))
            .Append(Window(3, blockOnly(3, 300), Vm("vmB", 1000, 300 * Us))).ToList();
        var e = Assert.Single(Run(windows));
        Assert.Equal(0, e.Figure("qemu_layer"));
        // lost 200 µs × 1000 of 300 µs × 1000.
        Assert.Equal(2.0 / 3, e.Severity, 12);
    }

    private static NetworkMetrics Net(long packets, long busyNs, long waitNs) => new(packets / 2, packets / 2 * 1500, packets / 2, packets / 2 * 1500, busyNs, waitNs);

    [Fact]
    public void Net_VhostWaitsWhileAnotherVmHoldsThePcpus_EpisodeNamesIt()
    {
        // 0: vhost busy 200 ms, waiting 5 ms. 1–2: busy 200 ms, waiting 100 ms while vmB preempts vmA's vCPUs 300 ms (all to others).
        var windows = new[]
        {
            Window(0, Vm("vmA", net: Net(10_000, 200 * Ms, 5 * Ms), onCpu: 900 * Ms)),
            Window(1, Vm("vmA", net: Net(10_000, 200 * Ms, 100 * Ms), onCpu: 700 * Ms, preempted: 300 * Ms, by: [("vmB", 300 * Ms)])),
            Window(2, Vm("vmA", net: Net(10_000, 200 * Ms, 100 * Ms), onCpu: 700 * Ms, preempted: 300 * Ms, by: [("vmB", 300 * Ms)])),
        };
        var e = Assert.Single(Run(windows), e => e.Resource == EpisodeResource.Net);
        Assert.Equal((1 * S, 3 * S), (e.StartNs, e.EndNs));
        // lost 2 × 100 ms × (300/300) of 2 × 300 ms wanted.
        Assert.Equal(1.0 / 3, e.Severity, 12);
        Assert.Equal(new EpisodeCulprit("vmB", "vm", 1), Assert.Single(e.Culprits));
        Assert.Equal(20_000, e.Figure("packets"));
        Assert.Contains("vhost thread", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Net_NoVhostOrWaitingOnlyForItsOwnThreadsOrLittleTraffic_NoEpisode()
    {
        var windows = new[]
        {
            // Tap without vhost (qemu's main loop moves the packets: TCG, vhost=off): nothing measured to lose.
            Window(0, Vm("vmA", net: Net(10_000, 0, 0), onCpu: 700 * Ms, preempted: 300 * Ms, by: [("vmB", 300 * Ms)])),
            // vhost waits 100 ms, but the pCPUs went to vmA's own threads.
            Window(1, Vm("vmA", net: Net(10_000, 200 * Ms, 100 * Ms), onCpu: 700 * Ms, preempted: 300 * Ms, by: [("vmA", 300 * Ms)])),
            // 50 packets: under the 100 counted.
            Window(2, Vm("vmA", net: Net(50, 20 * Ms, 100 * Ms), onCpu: 700 * Ms, preempted: 300 * Ms, by: [("vmB", 300 * Ms)])),
        };
        Assert.DoesNotContain(Run(windows), e => e.Resource == EpisodeResource.Net);
    }

    [Fact]
    public void Checkpoint_MidDiskAndNetEpisodes_RestoredDetectorGivesTheSameEpisodes()
    {
        // vmA: baseline 0–2, then vmB's I/O and CPU use inflate its requests and make its vhost thread wait, 3–7.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 1000, 200 * Us, onCpu: 1000 * Ms, net: Net(1000, 100 * Ms, 0))))
            .Concat(Enumerable.Range(3, 5).Select(s => Window(s,
                Vm("vmA", 1000, (400 + 50 * s) * Us, onCpu: 600 * Ms, preempted: 400 * Ms, by: [("vmB", 300 * Ms), ("host:bash", 100 * Ms)],
                    net: Net(1000, 100 * Ms, 50 * Ms)),
                Vm("vmB", 500, 300 * Us, onCpu: 1000 * Ms))))
            .ToList();
        var straight = Run(windows);
        Assert.Contains(straight, e => e.Resource == EpisodeResource.Disk);
        Assert.Contains(straight, e => e.Resource == EpisodeResource.Net);

        var first = new EpisodeDetector();
        foreach (var w in windows.Take(5))
            first.OnWindow(w);
        Assert.Equal(1, first.OpenCountOf(EpisodeResource.Disk));
        Assert.Equal(1, first.OpenCountOf(EpisodeResource.Net));
        using var writer = new SectionWriter();
        first.WriteCheckpoint(writer);
        byte[] payload = writer.Payload.ToArray();
        var restored = new EpisodeDetector();
        var reader = new SectionReader(CheckpointSection.Windows, payload, 0, payload.Length);
        restored.ReadCheckpoint(reader);
        reader.ExpectEnd();
        foreach (var w in windows.Skip(5))
            restored.OnWindow(w);
        restored.Finish();
        Assert.Equal(straight.Select(Text), restored.TakeClosed().Select(Text));
    }

    private static string Text(Episode e) =>
        $"{e.Vm} {e.Resource} {e.StartNs} {e.EndNs} {e.Severity:R} [{string.Join(";", e.Culprits)}] [{string.Join(";", e.Evidence)}] {e.Advice}";
}
