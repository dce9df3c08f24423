using System.Text.Json;
using Vmtrace.Analysis.Tests.Checkpoint;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Episodes;

/// <summary>
/// Episodes on labelled real recordings held out from choosing the rules' thresholds (those were set on
/// tcg-qemu/s2-cpu-contention): each VM's launch time is the recording's label (vmmap.json <c>launched_realtime</c>,
/// on the trace's clock, tai = realtime there).
/// </summary>
public class EpisodeRecordingTests
{
    private const long TwoSeconds = 2_000_000_000;

    [CorpusFact]
    public void S3_DiskVmJoinedByACpuVm_CpuEpisodeWithin2sOfItsArrivalNamesIt_NoneBefore()
    {
        var episodes = Run(CheckpointTestTraces.Open("s3"), "s3");
        long vmE = Launched("tcg-qemu/s3-disk-vs-cpu/vmmap.json")["vmE"];
        var first = episodes.Where(e => e.Vm == "vmD" && e.Resource == EpisodeResource.Cpu).OrderBy(e => e.StartNs).First();
        Assert.InRange(first.StartNs, vmE - TwoSeconds, vmE + TwoSeconds);
        Assert.Equal(new EpisodeCulprit("vmE", EpisodeCulpritKind.Vm, first.Culprits[0].Share), first.Culprits[0]);
        // While vmD ran alone (before vmE's launch), no episode of severity ≥ 0.1.
        Assert.DoesNotContain(episodes, e => e.Vm == "vmD" && e.StartNs < vmE - TwoSeconds && e.Severity >= 0.1);
    }

    /// <summary>
    /// vmD's disk requests (qemu's thread pool: 236 µs each over its first windows) slow down once vmE's two vCPUs take the
    /// two pCPUs its main loop and workers need; vmE has no I/O, so the culprit is vmE's CPU use.
    /// </summary>
    [CorpusFact]
    public void S3_DiskVmJoinedByACpuVm_DiskEpisodeAfterItsArrivalNamesIt_NoneBefore()
    {
        var episodes = Run(CheckpointTestTraces.Open("s3"), "s3");
        long vmE = Launched("tcg-qemu/s3-disk-vs-cpu/vmmap.json")["vmE"];
        var disk = episodes.Where(e => e.Resource == EpisodeResource.Disk).ToList();
        Assert.All(disk, e => Assert.Equal("vmD", e.Vm));
        Assert.DoesNotContain(disk, e => e.StartNs < vmE);
        var first = disk.OrderBy(e => e.StartNs).First();
        Assert.Equal(new EpisodeCulprit("vmE", EpisodeCulpritKind.Vm, first.Culprits[0].Share), first.Culprits[0]);
        Assert.True(first.Culprits[0].Share >= 0.5, $"vmE's share {first.Culprits[0].Share}");
        Assert.Equal(1, first.Figure("qemu_layer"));
        Assert.True(first.Figure("latency_mean_ns") >= EpisodeRules.DiskContinueRatio * first.Figure("baseline_latency_ns"));
        Assert.True(first.Severity >= 0.1, $"severity {first.Severity}");
        Assert.Contains("vmE", first.Advice, StringComparison.Ordinal);
    }

    /// <summary>
    /// vmN moves its packets through tap0 without vhost (TCG, vhost=off): qemu's main loop does it, and the windows hold no
    /// thread time of its own for the packets, so there is no net episode to find; its traffic is there.
    /// </summary>
    [CorpusFact]
    public void S4_NetVmWithoutVhost_TrafficButNoNetEpisode()
    {
        using var source = CheckpointTestTraces.Open("s4");
        var analysis = CheckpointTestTraces.Start(source, "s4");
        var windows = new List<WindowMetrics>();
        var episodes = new List<Episode>();
        long last = long.MinValue;
        while (source.MoveNext())
        {
            last = Math.Max(last, source.Current.Timestamp);
            analysis.OnEvent(source.Current);
            windows.AddRange(analysis.TakeClosedWindows());
            episodes.AddRange(analysis.TakeClosedEpisodes());
        }
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());
        episodes.AddRange(analysis.TakeClosedEpisodes());
        var vmN = windows.SelectMany(w => w.Vms).Where(v => v.Vm == "vmN").ToList();
        Assert.True(vmN.Count(v => v.Network.RxPackets + v.Network.TxPackets >= EpisodeRules.NetMinPackets) >= 5);
        Assert.All(vmN, v => Assert.Equal(0, v.Network.VhostBusyNs + v.Network.VhostWaitNs));
        Assert.DoesNotContain(episodes, e => e.Resource == EpisodeResource.Net);
    }

    [CorpusFact]
    public void S4_OneVmAlone_NoEpisodeOfSeverityAtLeastATenth()
    {
        var episodes = Run(CheckpointTestTraces.Open("s4"), "s4");
        Assert.DoesNotContain(episodes, e => e.Severity >= 0.1);
    }

    [CorpusFact]
    public void Tcg3Vms_VmsStartedTogether_EachHasACpuEpisodeWithin2sNamingAnotherVm()
    {
        string dir = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");
        using var source = TraceOpener.OpenAll([Path.Combine(dir, "trace.dat.xz"), .. Directory.GetFiles(dir, "qemu-*.log.xz").Order(StringComparer.Ordinal)]);
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(source.InitialThreadNames);
        foreach (var vm in VmMapJson.Parse(File.ReadAllText(Path.Combine(dir, "vmmap.json"))))
            analysis.AddInventory(vm);
        var episodes = Drain(source, analysis);
        var launched = Launched(Path.Combine(dir, "vmmap.json"));
        long lastArrival = launched.Values.Max();
        foreach (var vm in launched.Keys)
        {
            var first = episodes.Where(e => e.Vm == vm && e.Resource == EpisodeResource.Cpu).OrderBy(e => e.StartNs).First();
            Assert.InRange(first.StartNs, lastArrival - TwoSeconds, lastArrival + TwoSeconds);
            Assert.Equal(EpisodeCulpritKind.Vm, first.Culprits[0].Kind);
            Assert.Contains(first.Culprits[0].Name, launched.Keys.Where(k => k != vm));
        }
    }

    /// <summary>Saved in the middle of the trace (inside vmD's episode) and restored, the analysis gives the same episodes.</summary>
    [CorpusFact]
    public void S3_CheckpointMidTrace_RestoredAnalysisGivesTheSameEpisodes()
    {
        var straight = Run(CheckpointTestTraces.Open("s3"), "s3");
        Assert.NotEmpty(straight);
        using var source = CheckpointTestTraces.Open("s3");
        var analysis = CheckpointTestTraces.Start(source, "s3");
        var episodes = new List<Episode>();
        long n = 0, last = long.MinValue;
        bool restored = false;
        while (source.MoveNext())
        {
            last = Math.Max(last, source.Current.Timestamp);
            analysis.OnEvent(source.Current);
            _ = analysis.TakeClosedWindows();
            episodes.AddRange(analysis.TakeClosedEpisodes());
            // Past the first 100,000 events, as soon as an episode is open.
            if (!restored && ++n >= 100_000 && analysis.Episodes.OpenCount > 0)
            {
                analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
                restored = true;
            }
        }
        Assert.True(restored, "no episode open to checkpoint");
        analysis.Flush(last);
        episodes.AddRange(analysis.TakeClosedEpisodes());
        Assert.Equal(straight.Select(Text), episodes.Select(Text));
    }

    /// <summary>Saved while vmD's disk episode is open and restored, the analysis gives the same episodes.</summary>
    [CorpusFact]
    public void S3_CheckpointInsideTheDiskEpisode_RestoredAnalysisGivesTheSameEpisodes()
    {
        var straight = Run(CheckpointTestTraces.Open("s3"), "s3");
        using var source = CheckpointTestTraces.Open("s3");
        var analysis = CheckpointTestTraces.Start(source, "s3");
        var episodes = new List<Episode>();
        long last = long.MinValue;
        bool restored = false;
        while (source.MoveNext())
        {
            last = Math.Max(last, source.Current.Timestamp);
            analysis.OnEvent(source.Current);
            _ = analysis.TakeClosedWindows();
            episodes.AddRange(analysis.TakeClosedEpisodes());
            if (!restored && analysis.Episodes.OpenCountOf(EpisodeResource.Disk) > 0)
            {
                analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
                restored = true;
            }
        }
        Assert.True(restored, "no disk episode open to checkpoint");
        analysis.Flush(last);
        episodes.AddRange(analysis.TakeClosedEpisodes());
        Assert.Contains(episodes, e => e.Resource == EpisodeResource.Disk);
        Assert.Equal(straight.Select(Text), episodes.Select(Text));
    }

    private static string Text(Episode e) =>
        $"{e.Vm} {e.Resource} {e.StartNs} {e.EndNs} {e.Severity:R} [{string.Join(";", e.Culprits)}] [{string.Join(";", e.Evidence)}] {e.Advice}";

    private static List<Episode> Run(EventSource source, string trace)
    {
        using (source)
            return Drain(source, CheckpointTestTraces.Start(source, trace));
    }

    private static List<Episode> Drain(EventSource source, HostAnalysis analysis)
    {
        var episodes = new List<Episode>();
        long last = long.MinValue;
        while (source.MoveNext())
        {
            last = Math.Max(last, source.Current.Timestamp);
            analysis.OnEvent(source.Current);
            _ = analysis.TakeClosedWindows();
            episodes.AddRange(analysis.TakeClosedEpisodes());
        }
        analysis.Flush(last);
        episodes.AddRange(analysis.TakeClosedEpisodes());
        return episodes;
    }

    /// <summary>Each VM's launch time from a vmmap.json (relative paths are in the corpus), ns.</summary>
    private static Dictionary<string, long> Launched(string vmmap)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.IsPathRooted(vmmap) ? vmmap : Corpus.Path(vmmap)));
        return doc.RootElement.GetProperty("vms").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!, v => (long)Math.Round(v.GetProperty("launched_realtime").GetDouble() * 1e9));
    }
}
