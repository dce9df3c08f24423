using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis.Tests.Episodes;

/// <summary>The episode rules on hand-built window sequences (1 s windows; every expected figure worked out in the comment beside it).</summary>
public class EpisodeDetectorTests
{
    private const long S = 1_000_000_000;

    /// <summary>One VM in one window: its vCPUs' on-CPU, preempted and wake-up wait ns, who preempted it, and its exits.</summary>
    private static VmMetrics Vm(string name, long onCpu, long preempted, long wait = 0, (string Culprit, long Ns)[]? by = null,
        ExitMetrics[]? exits = null) =>
        new(name, 1, "test", new CpuTimes(0, onCpu, preempted, wait, 0, 0), onCpu, 0, 1, [], exits ?? [], DiskLayerMetrics.Empty,
            DiskLayerMetrics.Empty, NetworkMetrics.Empty, (by ?? []).Select(b => new Interference(b.Culprit, b.Ns)).ToList());

    private static WindowMetrics Window(int second, params VmMetrics[] vms) => new(second * S, (second + 1) * S, 2, vms);

    private static ExitMetrics Exits(int reason, long count, long meanNs) =>
        new(reason, new LatencyMetrics(count, count * meanNs, meanNs, meanNs, new LatencyHistogram()), ExitIsa.Vmx);

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
    public void Cpu_ContendingVmArrives_EpisodeStartsInItsFirstWindowAndNamesIt()
    {
        // Seconds 0–2 vmA runs alone (900 ms on CPU, nothing lost); seconds 3–5 vmB takes 400 ms of it.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 900 * 1_000_000L, 0)))
            .Concat(Enumerable.Range(3, 3).Select(s => Window(s, Vm("vmA", 600_000_000, 400_000_000, 0, [("vmB", 400_000_000)]))))
            .ToList();
        var e = Assert.Single(Run(windows));
        Assert.Equal(("vmA", "cpu", 3 * S, 6 * S), (e.Vm, e.Resource, e.StartNs, e.EndNs));
        // lost 3 × 400 ms of wanted 3 × 1000 ms.
        Assert.Equal(0.4, e.Severity, 12);
        Assert.Equal(new EpisodeCulprit("vmB", "vm", 1), Assert.Single(e.Culprits));
        Assert.Equal(1.2e9, e.Figure("lost_ns"));
        Assert.Contains("vmB", e.Advice, StringComparison.Ordinal);
        Assert.Contains("pin", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_HostProcessSteals_NamedAsHostCulpritByItsComm()
    {
        var windows = Enumerable.Range(0, 2).Select(s => Window(s,
            Vm("vmA", 700_000_000, 300_000_000, 0, [("host:stress-ng", 240_000_000), ("host:kvm-pit/123", 60_000_000)]))).ToList();
        var e = Assert.Single(Run(windows));
        // 600 ms of 2000 ms wanted; stress-ng 480 of the 600 ms charged to others, kvm-pit 120.
        Assert.Equal(0.3, e.Severity, 12);
        Assert.Equal([new EpisodeCulprit("stress-ng", "host", 0.8), new EpisodeCulprit("kvm-pit/123", "hypervisor", 0.2)], e.Culprits);
        Assert.Contains("cpu.max", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_PreemptedOnlyByItsOwnThreadsOrIdle_NoEpisode()
    {
        var windows = Enumerable.Range(0, 4).Select(s => Window(s,
            Vm("vmA", 500_000_000, 400_000_000, 100_000_000, [("vmA", 350_000_000), ("idle", 50_000_000)]))).ToList();
        Assert.Empty(Run(windows));
    }

    [Fact]
    public void Cpu_IdleVmLosingMostOfItsTinyDemand_NoEpisode()
    {
        // 5 ms wanted, 3 ms lost to vmB: severity 0.6 but 3 ms is under the floor (2 % of 1 s = 20 ms).
        var windows = Enumerable.Range(0, 4).Select(s => Window(s, Vm("idle", 2_000_000, 3_000_000, 0, [("vmB", 3_000_000)]))).ToList();
        Assert.Empty(Run(windows));
    }

    [Fact]
    public void Cpu_WakeupWait_ApportionedLikeThePreemptedTime()
    {
        // preempted 100 ms (vmB 50, itself 50), wait 100 ms: lost to others = 200 × 50/100 = 100 ms of 1000 wanted.
        var e = Assert.Single(Run([Window(0, Vm("vmA", 800_000_000, 100_000_000, 100_000_000, [("vmB", 50_000_000), ("vmA", 50_000_000)]))]));
        Assert.Equal(0.1, e.Severity, 12);
        Assert.Equal(1e8, e.Figure("lost_ns"));
    }

    [Fact]
    public void Cpu_NewContenderTakesOverAnEstablishedEpisode_SplitsThere()
    {
        // 0–2: a host process takes 200 ms; from 3 vmC (never seen) is the largest culprit: a new episode at 3 s.
        var windows = Enumerable.Range(0, 3).Select(s => Window(s, Vm("vmA", 800_000_000, 200_000_000, 0, [("host:bash", 200_000_000)])))
            .Concat(Enumerable.Range(3, 2).Select(s => Window(s, Vm("vmA", 500_000_000, 500_000_000, 0, [("vmC", 400_000_000), ("host:bash", 100_000_000)]))))
            .ToList();
        var episodes = Run(windows);
        Assert.Equal([(0 * S, 3 * S, "bash"), (3 * S, 5 * S, "vmC")], episodes.Select(e => (e.StartNs, e.EndNs, e.TopCulprit!.Name)));
    }

    [Fact]
    public void Cpu_QuietWindowOrGapOrAbsence_ClosesTheEpisode()
    {
        var busy = (int s) => Window(s, Vm("vmA", 500_000_000, 500_000_000, 0, [("vmB", 500_000_000)]));
        var episodes = Run([busy(0), busy(1), Window(2, Vm("vmA", 1_000_000_000, 0)), busy(3), busy(5), busy(6), Window(7, Vm("vmX", 1, 0)), busy(8)]);
        Assert.Equal([(0 * S, 2 * S), (3 * S, 4 * S), (5 * S, 7 * S), (8 * S, 9 * S)], episodes.Select(e => (e.StartNs, e.EndNs)));
    }

    [Fact]
    public void Exits_RateFarAboveItsOwnBaseline_StormNamedByReason()
    {
        // Six windows at 2000 HLT exits/s set the baseline (the first five: their mean, 2000); then 20,000/s for two windows.
        var quiet = (int s) => Window(s, Vm("vmA", 500_000_000, 0, 0, null, [Exits(12, 2000, 5_000)]));
        var storm = (int s) => Window(s, Vm("vmA", 500_000_000, 0, 0, null, [Exits(12, 20_000, 5_000)]));
        var episodes = Run([quiet(0), quiet(1), quiet(2), quiet(3), quiet(4), quiet(5), storm(6), storm(7), quiet(8)]);
        var e = Assert.Single(episodes);
        Assert.Equal(("exits", 6 * S, 8 * S), (e.Resource, e.StartNs, e.EndNs));
        Assert.Equal(new EpisodeCulprit("12 HLT", "hypervisor", 1), Assert.Single(e.Culprits));
        Assert.Equal(2000, e.Figure("baseline_per_s"), 9);
        // excess 2 × 18,000 exits × 5 µs = 180 ms of 2 × 500 ms wanted.
        Assert.Equal(0.18, e.Severity, 9);
        Assert.Contains("10×", e.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Exits_SteadyHighRateOrBeforeTheBaselineIsSet_NoStorm()
    {
        var high = (int s) => Window(s, Vm("vmA", 500_000_000, 0, 0, null, [Exits(48, 50_000, 1_000)]));
        // From the first window 50,000/s: high, but its own baseline.
        Assert.Empty(Run(Enumerable.Range(0, 10).Select(high)));
    }

    [Fact]
    public void Checkpoint_MidEpisode_RestoredDetectorGivesTheSameEpisodes()
    {
        var windows = Enumerable.Range(0, 6).Select(s => Window(s, Vm("vmA", 600_000_000, 400_000_000, 0, [("vmB", 400_000_000)]),
            Vm("vmB", 500_000_000, 0, 0, null, [Exits(30, s < 5 ? 100 : 9000, 2_000)]))).ToList();
        var straight = Run(windows);
        Assert.Equal(2, straight.Count);

        var first = new EpisodeDetector();
        foreach (var w in windows.Take(3))
            first.OnWindow(w);
        using var writer = new SectionWriter();
        first.WriteCheckpoint(writer);
        byte[] payload = writer.Payload.ToArray();
        var restored = new EpisodeDetector();
        var reader = new SectionReader(CheckpointSection.Windows, payload, 0, payload.Length);
        restored.ReadCheckpoint(reader);
        reader.ExpectEnd();
        foreach (var w in windows.Skip(3))
            restored.OnWindow(w);
        restored.Finish();
        var resumed = restored.TakeClosed();
        Assert.Equal(straight.Select(Text), resumed.Select(Text));
    }

    private static string Text(Episode e) =>
        $"{e.Vm} {e.Resource} {e.StartNs} {e.EndNs} {e.Severity:R} [{string.Join(";", e.Culprits)}] [{string.Join(";", e.Evidence)}] {e.Advice}";
}
