using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>Fused host+guest analysis on Trace Compass's stub pair and the real hip24 host+guest recording.</summary>
public partial class FusedGuestAnalysisTests
{
    private const string PairDir = "hip24-kvm-host-guest-pair/";

    /// <summary>Reads host (input 0) and guest (input 1) merged by time, as <c>analyze --guest</c> does.</summary>
    private static GuestMetrics Run(EventSource host, EventSource guest, GuestBinding binding)
    {
        using var merged = new MergedEventSource([host, guest]);
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(host.InitialThreadNames);
        var fused = new FusedGuestAnalysis(analysis, [binding]);
        fused.AddGuestThreadNames(0, guest.InitialThreadNames);
        long lastHost = long.MinValue;
        while (merged.MoveNext())
        {
            var e = merged.Current;
            if (merged.CurrentInput == 0)
            {
                lastHost = Math.Max(lastHost, e.Timestamp);
                analysis.OnEvent(e);
                fused.AfterHostEvent();
            }
            else
            {
                fused.OnGuestEvent(0, e);
            }
        }
        analysis.Flush(lastHost);
        return Assert.Single(fused.Finish(cutNs: null));
    }

    private static GuestMetrics OneQemuKvm() =>
        Run(TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml")),
            TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/guest.xml")),
            // The VM as vmtrace names it from the host trace alone (its vCPU thread 31; no process info in the stub).
            new GuestBinding("qemu-t31"));

    [CorpusFact]
    public void Fused_OneQemuKvm_Thread130IsTraceCompassFigures()
    {
        var guest = OneQemuKvm();
        Assert.Equal("qemu-t31", guest.Vm);
        var t130 = Assert.Single(guest.Threads, t => t.Tid == 130);
        // GROUND_TRUTH.md A.4 (VmOverheadAnalysis): RUN [35,74] [175,224] [275,374] = 40+50+100 = 190;
        // VMM [45,59] [195,209] [295,299] [350,354] = 15+15+5+5 = 40; "VCPU Preempted" [300,349] = 50.
        Assert.Equal((190, 40, 50), (t130.RunNs, t130.HypervisorNs, t130.PreemptedNs));
        // The rest of its run the vCPU was in guest mode (the vCPU status RUNNING without VMM/PREEMPT).
        Assert.Equal(100, t130.InGuestNs);
        Assert.Equal(0, t130.UnknownNs);
        // Host thread 30 ("any" in the stub's sched_switch) ran on the pCPU meanwhile.
        Assert.Equal([("host:any", 50L)], t130.PreemptedBy);
        Assert.Equal("any", t130.Comm);
    }

    [CorpusFact]
    public void Fused_OneQemuKvm_Thread131IsTraceCompassIntervals()
    {
        var t131 = Assert.Single(OneQemuKvm().Threads, t => t.Tid == 131);
        // GROUND_TRUTH.md A.1: 131 runs [10,34] [75,174] [225,274] (25+100+50 = 175; [375,375] is the trace's end),
        // "preempted" overlays [95,99] [100,149] [150,154] [245,259]: of those, [100,149] is the vCPU thread switched
        // out (vCPU status 386, PREEMPT) = 50, the others are VMM only (5+5+15 = 25).
        Assert.Equal((175, 100, 25, 50), (t131.RunNs, t131.InGuestNs, t131.HypervisorNs, t131.PreemptedNs));
    }

    [CorpusFact]
    public void Fused_OneQemuKvm_UnknownVmName_LeavesTimeUnknown()
    {
        var guest = Run(TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml")),
            TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/guest.xml")), new GuestBinding("no-such-vm"));
        Assert.Null(guest.Vm);
        var t130 = Assert.Single(guest.Threads, t => t.Tid == 130);
        Assert.Equal((190, 0, 0, 0, 190), (t130.RunNs, t130.InGuestNs, t130.HypervisorNs, t130.PreemptedNs, t130.UnknownNs));
    }

    /// <summary>
    /// A scripted host and guest: the vCPU thread 500 (guest CPU 0) goes through every host state while guest thread 42
    /// runs; each piece below is charged to the state the host shows for it.
    /// </summary>
    [Fact]
    public void Fused_ScriptedHostStates_SplitsTheGuestThreadsRun()
    {
        var host = new ScriptedSource()
            .Switch(0, 0, 0, "swapper/0", 0, 500, "CPU 0/KVM")
            .Entry(10, 0, 500, 0)
            .Exit(100, 0, 500, 0, 1)
            .Switch(110, 0, 500, "CPU 0/KVM", 0, 600, "stress")     // preempted (runnable)
            .Switch(200, 0, 600, "stress", 1, 500, "CPU 0/KVM")
            .Entry(210, 0, 500, 0)
            .Exit(300, 0, 500, 0, 12)
            .Switch(305, 0, 500, "CPU 0/KVM", 1, 0, "swapper/0")    // sleeps in its HLT exit
            .Switch(350, 0, 0, "swapper/0", 0, 600, "stress")
            .Wakeup(400, 1, 700, 500, 0)                             // woken, waits for pCPU 0
            .Switch(450, 0, 600, "stress", 0, 500, "CPU 0/KVM")
            .Entry(460, 0, 500, 0);
        var guest = new ScriptedSource()
            .Switch(5, 0, 0, "swapper/0", 0, 42, "worker")
            .Switch(350, 0, 42, "worker", 1, 0, "swapper/0")
            .Switch(420, 0, 0, "swapper/0", 0, 42, "worker")
            .Switch(500, 0, 42, "worker", 1, 0, "swapper/0");

        var measured = Run(host, guest, new GuestBinding("vm1", new Dictionary<int, int> { [0] = 500 }));

        var t = Assert.Single(measured.Threads);
        Assert.Equal((42, "worker"), (t.Tid, t.Comm));
        // Runs [5,350) and [420,500): 345 + 80.
        Assert.Equal(425, t.RunNs);
        // In guest mode [10,100) [210,300) [460,500).
        Assert.Equal(90 + 90 + 40, t.InGuestNs);
        // Root mode: on the pCPU before the first entry [5,10), exits [100,110) [200,210) [300,305), asleep in the HLT
        // exit [305,350), back on the pCPU before its entry [450,460).
        Assert.Equal(5 + 10 + 10 + 5 + 45 + 10, t.HypervisorNs);
        // Switched out runnable [110,200) while "stress" ran, woken and waiting [420,450).
        Assert.Equal(90 + 30, t.PreemptedNs);
        Assert.Equal(("host:stress", 90L), t.PreemptedBy[0]);
        Assert.Equal(120, t.PreemptedBy.Sum(p => p.Ns));
        Assert.Equal(0, t.UnknownNs);
    }

    /// <summary>
    /// The hip24 pair against a computation of our own from the two text exports (trace-cmd report, guest times already
    /// shifted to the host clock by trace-cmd from the guest's TIME_SHIFT option).
    /// </summary>
    [CorpusFact]
    public void Fused_Hip24Pair_GuestThreadsEqualTextExportComputation()
    {
        var hostSource = FtraceFileSource.OpenTraceDat(Corpus.Path(PairDir + "host.trace.dat"));
        var guestSource = TraceOpener.Open(Corpus.Path(PairDir + "guest-Salamander4.trace.dat"));
        // SOURCES.md 1a: the host trace's GUEST option (for this guest's trace id) maps guest CPU 0 to host thread 483882.
        var mapping = Assert.Single(hostSource.Guests);
        Assert.Equal(guestSource.Machine?.TraceId, mapping.TraceId);
        Assert.Equal(483882, mapping.HostTidByGuestCpu[0]);
        var measured = Run(hostSource, guestSource, new GuestBinding("Salamander4", mapping.HostTidByGuestCpu));

        var reference = ExportReference.Compute(Corpus.Path(PairDir + "host.report-raw.txt"),
            Corpus.Path(PairDir + "guest-Salamander4.report-raw.txt.gz"), vcpuThread: 483882);

        Assert.Equal("qemu-t483882", measured.Vm);
        Assert.Equal(reference.Keys.Order(), measured.Threads.Select(t => t.Tid).Order());
        Assert.True(reference.Count > 10, $"only {reference.Count} guest threads ran");
        Assert.True(reference.Values.Sum(r => r.InGuest) > 10_000_000, "the guest threads spent under 10 ms in guest mode: the pair is not aligned");
        foreach (var m in measured.Threads)
        {
            var r = reference[m.Tid];
            Near(r.Run, m.RunNs, m, "run");
            Near(r.InGuest, m.InGuestNs, m, "in guest");
            Near(r.Hypervisor, m.HypervisorNs, m, "hypervisor");
            // The host trace has no sched_switch: no preemption can be seen.
            Assert.Equal(0, m.PreemptedNs);
        }
    }

    /// <summary>Within 1 % of the reference, or 20 µs for small figures.</summary>
    private static void Near(long expected, long actual, GuestThreadTimes t, string what)
    {
        double tolerance = Math.Max(0.01 * expected, 20_000);
        Assert.True(Math.Abs(expected - actual) <= tolerance,
            $"guest thread {t.Tid} ({t.Comm}) {what}: {actual} ns, reference {expected} ns");
    }

    /// <summary>
    /// The reference, computed from the text exports alone: the guest's sched_switch lines say which guest thread runs
    /// (from the first switch on; idle = pid 0), the host's kvm_entry/kvm_exit lines of the vCPU thread say whether the
    /// vCPU is in guest mode (entry → exit) or in the hypervisor (exit → entry); before that thread's first kvm line
    /// its state is unknown. A guest thread's run is cut at the guest export's last line. Equal times: host line first.
    /// </summary>
    private static class ExportReference
    {
        public sealed class Times
        {
            public long Run;
            public long InGuest;
            public long Hypervisor;
        }

        public static Dictionary<int, Times> Compute(string hostExport, string guestExport, int vcpuThread)
        {
            // (time, order, kind, value): kind 0 = host state (1 in guest, 2 hypervisor), 1 = guest switch to value.
            var timeline = new List<(long Time, int Input, int Kind, int Value)>();
            foreach (var line in File.ReadLines(hostExport))
            {
                if (Parse(line) is not { } p || p.Tid != vcpuThread)
                    continue;
                if (p.Event == "kvm_entry")
                    timeline.Add((p.Time, 0, 0, 1));
                else if (p.Event == "kvm_exit")
                    timeline.Add((p.Time, 0, 0, 2));
            }
            long guestEnd = long.MinValue;
            using (var reader = new StreamReader(new GZipStream(File.OpenRead(guestExport), CompressionMode.Decompress)))
            {
                while (reader.ReadLine() is { } line)
                {
                    if (Parse(line) is not { } p)
                        continue;
                    guestEnd = Math.Max(guestEnd, p.Time);
                    if (p.Event == "sched_switch")
                        timeline.Add((p.Time, 1, 1, int.Parse(NextPid().Match(p.Fields).Groups[1].Value, CultureInfo.InvariantCulture)));
                }
            }
            timeline.Sort();

            var result = new Dictionary<int, Times>();
            int hostState = 0, current = -1;
            long since = 0;
            foreach (var (time, _, kind, value) in timeline)
            {
                Charge(Math.Min(time, guestEnd));
                if (kind == 0)
                    hostState = value;
                else
                    current = value;
            }
            Charge(guestEnd);
            return result;

            void Charge(long until)
            {
                if (current > 0 && until > since)
                {
                    if (!result.TryGetValue(current, out var t))
                        result.Add(current, t = new Times());
                    long d = until - since;
                    t.Run += d;
                    if (hostState == 1)
                        t.InGuest += d;
                    else if (hostState == 2)
                        t.Hypervisor += d;
                }
                since = Math.Max(since, until);
            }
        }

        private static (int Tid, long Time, string Event, string Fields)? Parse(string line)
        {
            var m = Line().Match(line);
            if (!m.Success)
                return null;
            // "seconds.nanoseconds" with 9 digits after the point.
            long time = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * 1_000_000_000
                + long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), time, m.Groups[4].Value, m.Groups[5].Value);
        }
    }

    /// <summary>"comm-tid [cpu] seconds.ns: event: fields".</summary>
    [GeneratedRegex(@"^\s*.*?-(\d+)\s+\[\d+\]\s+(\d+)\.(\d{9}):\s+(\w+):\s*(.*)$")]
    private static partial Regex Line();

    [GeneratedRegex(@"\bnext_pid=(\d+)")]
    private static partial Regex NextPid();
}
