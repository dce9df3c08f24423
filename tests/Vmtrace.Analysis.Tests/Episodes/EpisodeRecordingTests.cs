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
