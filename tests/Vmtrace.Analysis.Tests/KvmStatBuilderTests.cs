using System.Globalization;
using System.Text.RegularExpressions;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// <see cref="KvmStatBuilder"/> (perf kvm stat report) on the hip24 host traces against <see cref="KvmExitReference"/>:
/// trace-cmd's raw text export, each kvm_exit paired with the next kvm_entry of the same thread. An exit followed by
/// another exit of its thread before any entry (lost entry) or by nothing (still in the host at the end) is not a
/// sample, as in the analysis (it counts them as unfinished). Rows are the reference's (thread, reason) sums added
/// over the threads selected; the percentages, mean and perf's "+-" (standard deviation of the mean over the mean,
/// from the exact sum of squares) are computed here from those sums.
/// </summary>
public partial class KvmStatBuilderTests
{
    public static TheoryData<string, string> Traces => new()
    {
        { "hip24-kvm-host-allkvm/host.trace.dat", "hip24-kvm-host-allkvm/host.report-raw.txt" },
        { "hip24-kvm-host-guest-pair/host.trace.dat", "hip24-kvm-host-guest-pair/host.report-raw.txt" },
        { "hip24-kvm-host-2vms-46s/host.trace.dat", "hip24-kvm-host-2vms-46s/host.report-raw.txt.gz" },
    };

    private static KvmStatBuilder Run(string trace, KvmStatEvent kind)
    {
        var builder = new KvmStatBuilder(kind);
        using var source = TraceOpener.Open(Corpus.Path(trace));
        AnalysisRun.Of(source, new AnalysisOptions { ExitHandled = builder.AddExit }, observer: builder.OnEvent);
        return builder;
    }

    /// <summary>The expected rows from the reference, for the threads <paramref name="keep"/> accepts, in perf's default order.</summary>
    private static (List<KvmStatRow> Rows, long Samples, long Time) Expected(KvmExitReference reference, Func<int, bool> keep)
    {
        var byReason = new Dictionary<int, (long Count, long Sum, long Min, long Max, Int128 Squares)>();
        foreach (var ((tid, reason), s) in reference.Exits)
        {
            if (!keep(tid))
                continue;
            var squares = reference.SumSquares[(tid, reason)];
            byReason[reason] = byReason.TryGetValue(reason, out var a)
                ? (a.Count + s.Count, a.Sum + s.Sum, Math.Min(a.Min, s.Min), Math.Max(a.Max, s.Max), a.Squares + squares)
                : (s.Count, s.Sum, s.Min, s.Max, squares);
        }
        long samples = byReason.Values.Sum(a => a.Count), time = byReason.Values.Sum(a => a.Sum);
        var rows = byReason.Select(kv =>
        {
            var (n, sum, min, max, squares) = kv.Value;
            // stddev of the mean / mean = √((n·Σx² − (Σx)²) / (n − 1)) / Σx.
            double rel = n < 2 || sum == 0 ? 0 : 100 * Math.Sqrt((double)(n * squares - (Int128)sum * sum) / (n - 1)) / sum;
            // The hip24 hosts are Intel (isa=1 on every kvm_exit): VMX names.
            return new KvmStatRow(ExitReasons.Name(ExitIsa.Vmx, kv.Key) ?? kv.Key.ToString(CultureInfo.InvariantCulture), n,
                100.0 * n / samples, 100.0 * sum / time, sum, min, max, (double)sum / n, rel);
        }).OrderByDescending(r => r.Samples).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        return (rows, samples, time);
    }

    private static void AssertRows((List<KvmStatRow> Rows, long Samples, long Time) expected, KvmStatReport report)
    {
        Assert.Equal(expected.Samples, report.TotalSamples);
        Assert.Equal(expected.Time, report.TotalTimeNs);
        Assert.Equal(expected.Rows.Select(r => r.Key), report.Rows.Select(r => r.Key));
        foreach (var (e, m) in expected.Rows.Zip(report.Rows))
        {
            Assert.Equal((e.Key, e.Samples, e.TimeNs, e.MinNs, e.MaxNs), (m.Key, m.Samples, m.TimeNs, m.MinNs, m.MaxNs));
            Assert.Equal(e.SamplesPct, m.SamplesPct, 1e-9);
            Assert.Equal(e.TimePct, m.TimePct, 1e-9);
            Assert.Equal(e.AvgNs, m.AvgNs, 1e-6);
            Assert.Equal(e.StddevPct, m.StddevPct, 1e-6);
        }
    }

    [CorpusTheory]
    [MemberData(nameof(Traces))]
    public void Build_Hip24_EveryRowEqualsTheTextExportReference(string trace, string export)
    {
        var reference = KvmExitReference.FromRawExport(Corpus.Path(export));
        var report = Run(trace, KvmStatEvent.VmExit).Build();
        Assert.True(report.EventsPresent);
        Assert.NotEmpty(report.Rows);
        AssertRows(Expected(reference, _ => true), report);
    }

    [CorpusFact]
    public void Build_Hip24TwoVms_VcpuAndVmFiltersKeepTheirThreadsOnly()
    {
        var reference = KvmExitReference.FromRawExport(Corpus.Path("hip24-kvm-host-2vms-46s/host.report-raw.txt.gz"));
        var builder = Run("hip24-kvm-host-2vms-46s/host.trace.dat", KvmStatEvent.VmExit);

        // vcpu_id 1 is only CPU 1/KVM-453725; vcpu_id 0 is two threads of two VMs (SOURCES.md 1c).
        AssertRows(Expected(reference, tid => reference.VcpuIdOfThread[tid] == 1), builder.Build(vcpu: 1));
        AssertRows(Expected(reference, tid => reference.VcpuIdOfThread[tid] == 0), builder.Build(vcpu: 0));
        // Without a vmmap.json each vCPU thread is its own VM named after it (Hip24KvmTests).
        AssertRows(Expected(reference, tid => tid == 483882), builder.Build(vms: new HashSet<string> { "qemu-t483882" }));
        Assert.Empty(builder.Build(vms: new HashSet<string> { "qemu-t483882" }, vcpu: 1).Rows);
    }

    [CorpusFact]
    public void Build_Hip24TwoVms_SortKeysOrderBiggestFirst()
    {
        var builder = Run("hip24-kvm-host-2vms-46s/host.trace.dat", KvmStatEvent.VmExit);
        Assert.Equal(builder.Build().Rows.Select(r => r.Key).Order(), builder.Build(KvmStatKey.Time).Rows.Select(r => r.Key).Order());
        Assert.Equal(builder.Build().Rows.OrderByDescending(r => r.TimeNs).Select(r => r.Key), builder.Build(KvmStatKey.Time).Rows.Select(r => r.Key));
        Assert.Equal(builder.Build().Rows.OrderByDescending(r => r.MaxNs).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key), builder.Build(KvmStatKey.Max).Rows.Select(r => r.Key));
        Assert.Equal(builder.Build().Rows.OrderByDescending(r => r.MinNs).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key), builder.Build(KvmStatKey.Min).Rows.Select(r => r.Key));
        Assert.Equal(builder.Build().Rows.OrderByDescending(r => r.AvgNs).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key), builder.Build(KvmStatKey.Mean).Rows.Select(r => r.Key));
    }

    [GeneratedRegex(@"^\s*.*-(?<tid>\d+)\s+\[\d+\]\s*(?<ts>\d+): (?<name>kvm_entry|kvm_exit|kvm_mmio):\s*(?<fields>.*)$")]
    private static partial Regex KvmLine();

    [CorpusFact]
    public void Build_Hip24AllKvm_MmioRowsEqualTheTextExport()
    {
        // perf's x86 MMIO rules applied to the raw export (ts in the trace's own ticks): a write (type=2) runs from its
        // kvm_mmio to the next kvm_entry of its thread, a read (type=1) from the thread's last kvm_exit to its kvm_mmio.
        var pending = new Dictionary<int, (long Start, string? Key)>();
        var rows = new Dictionary<string, List<long>>();
        foreach (string line in File.ReadLines(Corpus.Path("hip24-kvm-host-allkvm/host.report-raw.txt")))
        {
            var m = KvmLine().Match(line);
            if (!m.Success)
                continue;
            int tid = int.Parse(m.Groups["tid"].Value, CultureInfo.InvariantCulture);
            long ts = long.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture);
            string fields = m.Groups["fields"].Value;
            switch (m.Groups["name"].Value)
            {
                case "kvm_exit":
                    pending[tid] = (ts, null);
                    break;
                case "kvm_entry" when pending.TryGetValue(tid, out var p) && p.Key is not null:
                    rows.TryAdd(p.Key, []);
                    rows[p.Key].Add(ts - p.Start);
                    pending.Remove(tid);
                    break;
                case "kvm_mmio":
                    string gpa = Regex.Match(fields, @"gpa=(0x[0-9a-f]+)").Groups[1].Value;
                    string type = Regex.Match(fields, @"type=(\d+)").Groups[1].Value;
                    if (type == "2")
                        pending[tid] = (ts, gpa + ":W");
                    else if (type == "1" && pending.Remove(tid, out var read))
                    {
                        string key = read.Key ?? gpa + ":R";
                        rows.TryAdd(key, []);
                        rows[key].Add(ts - read.Start);
                    }
                    break;
                default:
                    break;
            }
        }

        var report = Run("hip24-kvm-host-allkvm/host.trace.dat", KvmStatEvent.Mmio).Build();

        Assert.True(report.EventsPresent);
        Assert.NotEmpty(rows);
        Assert.Equal(rows.Values.Sum(v => v.Count), report.TotalSamples);
        Assert.Equal(rows.Values.Sum(v => v.Sum()), report.TotalTimeNs);
        Assert.Equal(rows.Keys.Order(StringComparer.Ordinal), report.Rows.Select(r => r.Key).Order(StringComparer.Ordinal));
        foreach (var row in report.Rows)
            Assert.Equal((row.Key, (long)rows[row.Key].Count, rows[row.Key].Sum(), rows[row.Key].Min(), rows[row.Key].Max()), (row.Key, row.Samples, row.TimeNs, row.MinNs, row.MaxNs));
    }

    [CorpusFact]
    public void Build_Hip24AllKvm_NoKvmPio_SaysTheEventsAreAbsent()
    {
        Assert.DoesNotContain(File.ReadLines(Corpus.Path("hip24-kvm-host-allkvm/host.report-raw.txt")), l => l.Contains(" kvm_pio:", StringComparison.Ordinal));
        var report = Run("hip24-kvm-host-allkvm/host.trace.dat", KvmStatEvent.IoPort).Build();
        Assert.False(report.EventsPresent);
        Assert.Empty(report.Rows);
    }
}

/// <summary><see cref="KvmStatBuilder"/> on exits given directly: names by ISA and perf's "+-" on figures worked by hand.</summary>
public class KvmStatBuilderUnitTests
{
    [Fact]
    public void Build_SvmExits_AreNamedFromTheSvmTable()
    {
        var builder = new KvmStatBuilder(KvmStatEvent.VmExit);
        // 0x78 is HLT and 0x400 NPF in svm.h; on VMX 0x78 (120) has no name, so the number would show.
        builder.AddExit(new HandledExit("vm", 0, 100, 0x78, ExitIsa.Svm, 1000));
        builder.AddExit(new HandledExit("vm", 0, 100, 0x400, ExitIsa.Svm, 3000));
        builder.AddExit(new HandledExit("vm", 0, 100, 0x400, ExitIsa.Svm, 5000));

        var report = builder.Build();

        Assert.Equal(["NPF", "HLT"], report.Rows.Select(r => r.Key));
        Assert.Equal((3L, 9000L), (report.TotalSamples, report.TotalTimeNs));
        // NPF: 3000 and 5000 ns: mean 4000, sample stddev √2·1000, of the mean 1000, relative 25 %.
        Assert.Equal(25.0, report.Rows[0].StddevPct, 1e-9);
        Assert.Equal(0.0, report.Rows[1].StddevPct);
        Assert.Equal(100.0 * 8000 / 9000, report.Rows[0].TimePct, 1e-9);
    }

    [Fact]
    public void Build_ExitsOfTwoThreads_MergeIntoOneRowPerReason()
    {
        var builder = new KvmStatBuilder(KvmStatEvent.VmExit);
        // 12 is HLT on VMX. Thread 1: 100, 300; thread 2: 200, 400, 1000 → n 5, mean 400,
        // Σ(x−400)² = 90000+10000+40000+0+360000 = 500000, stddev of the mean √(500000/4/5) = 158.11…, relative 39.528…%.
        foreach (long ns in new long[] { 100, 300 })
            builder.AddExit(new HandledExit("a", 0, 1, 12, ExitIsa.Vmx, ns));
        foreach (long ns in new long[] { 200, 400, 1000 })
            builder.AddExit(new HandledExit("b", 1, 2, 12, ExitIsa.Vmx, ns));

        var row = Assert.Single(builder.Build().Rows);

        Assert.Equal(("HLT", 5L, 2000L, 100L, 1000L), (row.Key, row.Samples, row.TimeNs, row.MinNs, row.MaxNs));
        Assert.Equal(100 * Math.Sqrt(500000.0 / 4 / 5) / 400, row.StddevPct, 1e-9);
        Assert.Equal(2, Assert.Single(builder.Build(vms: new HashSet<string> { "a" }).Rows).Samples);
        Assert.Equal(3, Assert.Single(builder.Build(vcpu: 1).Rows).Samples);
    }
}
