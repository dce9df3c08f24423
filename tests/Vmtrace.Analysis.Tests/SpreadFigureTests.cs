using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// The standard deviations (exit latency per reason, vCPU preempted intervals, packet gaps) against references
/// computed in the test from the same decoded events the analysis reads (one pass, through the run's observer): the
/// durations are collected one by one and their sample standard deviation computed two-pass in double
/// (mean, then Σ(x − mean)² / (n − 1)). The analysis keeps exact integer sums per window and merges windows, so the
/// two agree to floating-point rounding (relative 1e-9).
/// </summary>
public class SpreadFigureTests
{
    private const double Tolerance = 1e-9;

    private static double SampleStdDev(List<long> xs)
    {
        if (xs.Count < 2)
            return 0;
        double mean = xs.Average(x => (double)x);
        return Math.Sqrt(xs.Sum(x => ((double)x - mean) * ((double)x - mean)) / (xs.Count - 1));
    }

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    [CorpusFact]
    public void Analyze_Hip24TwoVms_ExitLatencyStdDevPerThreadAndReasonEqualsPairedExits()
    {
        // Reference: each kvm_exit paired with the next kvm_entry of the same thread (the analysis's definition;
        // Hip24KvmTests checks count/sum/min/max of that pairing against trace-cmd's text export).
        var pending = new Dictionary<int, (long Ts, int Reason)>();
        var latencies = new Dictionary<(int Tid, int Reason), List<long>>();
        void Observe(in TraceEvent e)
        {
            if (e.Known == KnownEvent.KvmExit)
                pending[e.Tid] = (e.Timestamp, (int)e.Get(FieldRole.ExitReason, -1));
            else if (e.Known == KnownEvent.KvmEntry && pending.Remove(e.Tid, out var exit))
            {
                if (!latencies.TryGetValue((e.Tid, exit.Reason), out var list))
                    latencies[(e.Tid, exit.Reason)] = list = [];
                list.Add(e.Timestamp - exit.Ts);
            }
        }
        using var source = TraceOpener.Open(Corpus.Path("hip24-kvm-host-2vms-46s/host.trace.dat"));
        var (windows, total, _) = AnalysisRun.Of(source, observer: Observe);
        Assert.True(windows.Count >= 46);

        var measured = total.Vms.SelectMany(vm => vm.Vcpus).SelectMany(v => v.Exits.Select(x => (Key: (v.Tid, x.Reason), x.Latency)))
            .ToDictionary(x => x.Key, x => x.Latency);
        Assert.Equal(latencies.Keys.Order(), measured.Keys.Order());
        int spread = 0;
        foreach (var (key, list) in latencies)
        {
            var m = measured[key];
            Assert.Equal((key, (long)list.Count, list.Sum()), (key, m.Count, m.SumNs));
            AssertClose(SampleStdDev(list), m.StdDevNs, $"exit {key}");
            if (m.StdDevNs > 0)
                spread++;
        }
        Assert.True(spread >= 10, $"only {spread} thread/reason pairs with a spread");
    }

    [CorpusFact]
    public void Analyze_TcgCpuContention_PreemptedIntervalStdDevPerVmEqualsSchedSwitchIntervals()
    {
        // Reference: a vCPU thread switched out runnable (prev_state & 0xff == 0) starts an interval; its next
        // switch-in, or any earlier event of its own (it runs again, its switch-in unrecorded), ends it. The vCPU
        // threads are the inventory's. (On this trace the counts and sums agree exactly: 11950/17438/13212 intervals.)
        var inventory = VmMapJson.Parse(File.ReadAllText(Corpus.Path("tcg-qemu/s2-cpu-contention/vmmap.json")));
        var vmOfVcpu = new Dictionary<int, string>();
        foreach (var vm in inventory)
        {
            foreach (var t in vm.Threads.Where(t => t.VcpuIndex >= 0 || t.Comm.StartsWith("CPU ", StringComparison.Ordinal)))
                vmOfVcpu[t.Tid] = vm.Name;
        }
        var preemptedAt = new Dictionary<int, long>();
        var intervals = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        void End(int tid, long at)
        {
            if (!preemptedAt.Remove(tid, out long start))
                return;
            string vm = vmOfVcpu[tid];
            if (!intervals.TryGetValue(vm, out var list))
                intervals[vm] = list = [];
            list.Add(at - start);
        }
        void Observe(in TraceEvent e)
        {
            // An event of the thread itself shows it running again (its switch-in was not recorded).
            End(e.Tid, e.Timestamp);
            if (e.Known != KnownEvent.SchedSwitch)
                return;
            int prev = (int)e.Get(FieldRole.PrevTid, -1), next = (int)e.Get(FieldRole.NextTid, -1);
            if (vmOfVcpu.ContainsKey(prev) && (e.Get(FieldRole.PrevState, 1) & 0xFF) == 0)
                preemptedAt[prev] = e.Timestamp;
            End(next, e.Timestamp);
        }
        using var source = TraceOpener.Open(Corpus.Path("tcg-qemu/s2-cpu-contention/trace.dat.xz"));
        var (_, total, _) = AnalysisRun.Of(source, inventory: inventory, observer: Observe);

        Assert.NotEmpty(intervals);
        foreach (var (vm, list) in intervals)
        {
            var m = total.Vms.Single(v => v.Vm == vm).PreemptedIntervals;
            Assert.Equal((vm, (long)list.Count, list.Sum()), (vm, m.Count, m.SumNs));
            AssertClose(SampleStdDev(list), m.StdDevNs, $"preempted intervals of {vm}");
        }
    }

    [CorpusFact]
    public void Analyze_TcgNet_PacketGapStdDevEachWayEqualsTapEventGaps()
    {
        // Reference: net_dev_xmit on tap0 = into the VM, netif_receive_skb on tap0 = out of it (NetworkTracker's
        // definition); gaps between successive timestamps of each.
        var last = new long[] { -1, -1 };
        var gaps = new[] { new List<long>(), new List<long>() };
        void Observe(in TraceEvent e)
        {
            if (e.Known is not (KnownEvent.NetDevXmit or KnownEvent.NetifReceiveSkb) || !e.GetText(FieldRole.DeviceName).SequenceEqual("tap0"u8))
                return;
            int way = e.Known == KnownEvent.NetDevXmit ? 0 : 1;
            if (last[way] >= 0)
                gaps[way].Add(e.Timestamp - last[way]);
            last[way] = e.Timestamp;
        }
        var inventory = VmMapJson.Parse(File.ReadAllText(Corpus.Path("tcg-qemu/s4-net/vmmap.json")));
        using var source = TraceOpener.OpenAll([Corpus.Path("tcg-qemu/s4-net/trace.dat.xz"), Corpus.Path("tcg-qemu/s4-net/qemu-vmN.log.xz")]);
        var (windows, total, _) = AnalysisRun.Of(source, inventory: inventory, observer: Observe);
        Assert.True(windows.Count > 1);

        var net = total.Vms.Single(vm => vm.Network.RxPackets > 0).Network;
        Assert.True(gaps[0].Count > 100 && gaps[1].Count > 100, $"rx gaps {gaps[0].Count}, tx gaps {gaps[1].Count}");
        Assert.Equal(((long)gaps[0].Count, gaps[0].Sum()), (net.RxGaps.Count, net.RxGaps.SumNs));
        Assert.Equal(((long)gaps[1].Count, gaps[1].Sum()), (net.TxGaps.Count, net.TxGaps.SumNs));
        AssertClose(SampleStdDev(gaps[0]), net.RxGaps.StdDevNs, "rx gaps");
        AssertClose(SampleStdDev(gaps[1]), net.TxGaps.StdDevNs, "tx gaps");
    }

    [Fact]
    public void DurationSpread_MergedHalves_EqualsTheWholeAndTheTwoPassFormula()
    {
        // Hand-derived: 2, 4, 4, 4, 5, 5, 7, 9 has mean 5, Σ(x − 5)² = 32, sample variance 32/7.
        long[] xs = [2, 4, 4, 4, 5, 5, 7, 9];
        var whole = xs.Aggregate(default(DurationSpread), (s, x) => s.Add(x));
        var merged = xs[..3].Aggregate(default(DurationSpread), (s, x) => s.Add(x)).Merge(xs[3..].Aggregate(default(DurationSpread), (s, x) => s.Add(x)));
        Assert.Equal(whole, merged);
        Assert.Equal(32.0 / 7, whole.VarianceNs2, 12);
        Assert.Equal(5.0, whole.MeanNs);
        Assert.Equal(0, default(DurationSpread).Add(42).StdDevNs);
        // Minutes-long durations: the exact integer path still holds (no cancellation).
        var big = default(DurationSpread).Add(600_000_000_000).Add(600_000_000_002);
        Assert.Equal(2.0, big.VarianceNs2);
    }
}

public class PacketGapScriptedTests
{
    [Fact]
    public void OnEvent_PacketGaps_SpanWindowsButNotATimeJump()
    {
        var vm = new VmInventory("vm1", 99, [new(99, "qemu-system-x86"), new(100, "CPU 0/TCG")], ["tap1"]);
        // Into vm1 at 10, 30, 1_000_040 (the next window of 1 ms), then 10 s later past a 1 s max gap (a time jump).
        var s = new ScriptedSource()
            .Xmit(10, 0, 99, "tap1", 100)
            .Xmit(30, 0, 99, "tap1", 100)
            .Xmit(1_000_040, 0, 99, "tap1", 100)
            .Xmit(11_000_000_000, 0, 99, "tap1", 100)
            .Xmit(11_000_000_050, 0, 99, "tap1", 100);
        var options = new AnalysisOptions { WindowNs = 1_000_000, MaxGapNs = 1_000_000_000 };
        var (windows, total, analysis) = AnalysisRun.Of(s, options, [vm], 11_000_000_060);
        Assert.Equal(1, analysis.Counters.TimeJumps);
        // Gaps by hand: 20, 1_000_010 (across the window boundary, in the later window), then 50 after the jump.
        var gaps = Assert.Single(total.Vms).Network.RxGaps;
        Assert.Equal((3L, 20L + 1_000_010 + 50), (gaps.Count, gaps.SumNs));
        double mean = (20.0 + 1_000_010 + 50) / 3;
        double variance = (Math.Pow(20 - mean, 2) + Math.Pow(1_000_010 - mean, 2) + Math.Pow(50 - mean, 2)) / 2;
        Assert.Equal(Math.Sqrt(variance), gaps.StdDevNs, 6);
        Assert.Equal(1L, windows.Single(w => w.StartNs == 0).Vms.Single().Network.RxGaps.Count);
    }
}
