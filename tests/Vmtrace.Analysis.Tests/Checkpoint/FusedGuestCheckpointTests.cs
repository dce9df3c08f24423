using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>
/// The fused host+guest analysis saved with its host analysis (section guests) and restored continues exactly: the guest
/// threads' figures equal those of the uninterrupted run, on Trace Compass's stub pair (host preemption, cut after every
/// event) and the real hip24 host+guest recording (cut at spread points).
/// </summary>
public class FusedGuestCheckpointTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";
    private const string Pair = "hip24-kvm-host-guest-pair/";

    [CorpusFact]
    public void Restore_StubPairCutAfterEveryEvent_GuestThreadsLikeTheStraightRun()
    {
        var straight = Run(OpenStub, cut: -1);
        Assert.Contains("130|any|190|100|40|50|host:any=50", straight, StringComparison.Ordinal);
        long events = CountEvents(OpenStub);
        for (long cut = 0; cut < events; cut++)
            Assert.Equal(straight, Run(OpenStub, cut));
    }

    [CorpusFact]
    public void Restore_Hip24PairCut_GuestThreadsLikeTheStraightRun()
    {
        var straight = Run(OpenPair, cut: -1);
        long events = CountEvents(OpenPair);
        foreach (long cut in new[] { 1, events / 7, events / 3, events / 2 + 1, events * 4 / 5, events - 1 })
            Assert.Equal(straight, Run(OpenPair, cut));
    }

    [CorpusFact]
    public void SaveCheckpoint_WithGuests_HasTheGuestsSectionAndRestoresToTheSameBytes()
    {
        using var inputs = OpenStub();
        var analysis = new HostAnalysis();
        analysis.AttachGuests(inputs.Bindings);
        var saved = Feed(inputs, analysis, long.MaxValue).SaveCheckpoint();

        Assert.Equal(CheckpointSection.Guests, CheckpointFile.ReadSections(saved)[^1].Section);
        var restored = HostAnalysis.RestoreCheckpoint(saved);
        Assert.NotNull(restored.Guests);
        Assert.Equal(saved, restored.SaveCheckpoint());
        Assert.Null(HostAnalysis.RestoreCheckpoint(new HostAnalysis().SaveCheckpoint()).Guests);
    }

    private sealed class Inputs(MergedEventSource merged, IReadOnlyList<GuestBinding> bindings) : IDisposable
    {
        public MergedEventSource Merged { get; } = merged;

        public IReadOnlyList<GuestBinding> Bindings { get; } = bindings;

        public void Dispose() => Merged.Dispose();
    }

    private static Inputs OpenStub() => new(
        new MergedEventSource([TraceOpener.Open(Corpus.Path(Stub + "host.xml")), TraceOpener.Open(Corpus.Path(Stub + "guest.xml"))]),
        [new GuestBinding("qemu-t31")]);

    private static Inputs OpenPair()
    {
        var host = FtraceFileSource.OpenTraceDat(Corpus.Path(Pair + "host.trace.dat"));
        var guest = TraceOpener.Open(Corpus.Path(Pair + "guest-Salamander4.trace.dat"));
        return new Inputs(new MergedEventSource([host, guest]), [new GuestBinding("Salamander4", Assert.Single(host.Guests).HostTidByGuestCpu)]);
    }

    private static long CountEvents(Func<Inputs> open)
    {
        using var inputs = open();
        long n = 0;
        while (inputs.Merged.MoveNext())
            n++;
        return n;
    }

    /// <summary>
    /// The whole run as analyze feeds it (host events to the host analysis then the fused one; guest events to the fused
    /// one); after <paramref name="cut"/> events (-1: never) the analysis is saved, restored, and the restored one goes on.
    /// The guest threads as text: tid|comm|run|in guest|hypervisor|preempted|culprit=ns,…
    /// </summary>
    private static string Run(Func<Inputs> open, long cut)
    {
        using var inputs = open();
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(inputs.Merged.Inputs[0].InitialThreadNames);
        analysis.AttachGuests(inputs.Bindings).AddGuestThreadNames(0, inputs.Merged.Inputs[1].InitialThreadNames);
        if (cut >= 0)
            analysis = HostAnalysis.RestoreCheckpoint(Feed(inputs, analysis, cut).SaveCheckpoint());
        Feed(inputs, analysis, long.MaxValue);
        analysis.Flush(analysis.Now);
        var guest = Assert.Single(analysis.Guests!.Finish(cutNs: null));
        return guest.Vm + "\n" + string.Join('\n', guest.Threads.Select(t =>
            $"{t.Tid}|{t.Comm}|{t.RunNs}|{t.InGuestNs}|{t.HypervisorNs}|{t.PreemptedNs}|{string.Join(',', t.PreemptedBy.Select(p => p.Culprit + "=" + p.Ns))}"));
    }

    /// <summary>Feeds up to <paramref name="count"/> more events.</summary>
    private static HostAnalysis Feed(Inputs inputs, HostAnalysis analysis, long count)
    {
        var fused = analysis.Guests!;
        for (long n = 0; n < count && inputs.Merged.MoveNext(); n++)
        {
            var e = inputs.Merged.Current;
            if (inputs.Merged.CurrentInput == 0)
            {
                analysis.OnEvent(e);
                fused.AfterHostEvent();
            }
            else
            {
                fused.OnGuestEvent(inputs.Merged.CurrentInput - 1, e);
            }
        }
        return analysis;
    }
}
