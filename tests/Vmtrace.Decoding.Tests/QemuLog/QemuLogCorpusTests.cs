using System.Globalization;
using System.Text.RegularExpressions;
using Vmtrace.Decoding.QemuLog;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.QemuLog;

/// <summary>The real qemu logs of the tcg-qemu corpus against the counts recorded beside them.</summary>
public partial class QemuLogCorpusTests(UnpackedDiskLog diskLog) : IClassFixture<UnpackedDiskLog>
{
    private string DiskLogPath => diskLog.Path ?? throw new InvalidOperationException("corpus missing");

    [CorpusTheory]
    [InlineData("s2-cpu-contention", "vmA", "qemu-vmA.log")]
    [InlineData("s2-cpu-contention", "vmB", "qemu-vmB.log")]
    [InlineData("s2-cpu-contention", "vmC", "qemu-vmC.log")]
    [InlineData("s3-disk-vs-cpu", "vmD", "qemu-vmD.log.xz")]
    [InlineData("s3-disk-vs-cpu", "vmE", "qemu-vmE.log")]
    [InlineData("s4-net", "vmN", "qemu-vmN.log.xz")]
    public void Open_CorpusLog_CountsPerEventMatchEventCountsFile(string scenario, string vm, string file)
    {
        var expected = ExpectedCounts(scenario, vm);

        using var source = TraceOpener.Open(Corpus.Path($"tcg-qemu/{scenario}/{file}"));
        var actual = QemuLogTestReading.CountByName(source);

        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
        var diagnostics = TraceOpener.DiagnosticsOf(source);
        Assert.True(diagnostics.IsClean, $"errors: {diagnostics.ErrorCount}, first: {diagnostics.Errors.FirstOrDefault()?.Message}");
        Assert.Equal(TraceClockKind.Realtime, source.Clock);
    }

    [CorpusFact]
    public void Open_CorpusLog_FirstEventHasTidAndMicrosecondTimeOfFirstLine()
    {
        string path = Corpus.Path("tcg-qemu/s2-cpu-contention/qemu-vmA.log");
        // Reference from the text itself: "TID@SECONDS.MICROS:name ..." of the first line.
        string firstLine = File.ReadLines(path).First();
        var m = PrefixPattern().Match(firstLine);
        Assert.True(m.Success);
        int tid = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        long ns = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * 1_000_000_000L
            + long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * 1_000L;

        using var source = TraceOpener.Open(path);
        Assert.True(source.MoveNext());
        var e = source.Current;

        Assert.Equal(tid, e.Tid);
        Assert.Equal(ns, e.Timestamp);
        Assert.Equal(-1, e.Cpu);
        Assert.Equal(m.Groups[4].Value, e.Type.Name);
    }

    [CorpusFact]
    public void MoveNext_CorpusThreadPoolEvents_ReqRoleEqualsReqTextOfTheLine()
    {
        // vmD's log: thread_pool_submit/complete pair on req (tcg-qemu/README.md).
        using var source = QemuLogSource.Open(DiskLogPath);
        long submits = 0, completes = 0;
        var pending = new HashSet<long>();
        while (source.MoveNext())
        {
            var e = source.Current;
            if (e.Known == KnownEvent.QemuThreadPoolSubmit)
            {
                Assert.True(e.Has(FieldRole.Req));
                Assert.True(e.Has(FieldRole.Opaque));
                pending.Add(e.Get(FieldRole.Req));
                submits++;
            }
            else if (e.Known == KnownEvent.QemuThreadPoolComplete)
            {
                Assert.True(pending.Remove(e.Get(FieldRole.Req)), "complete without a submit of the same req");
                completes++;
            }
        }
        Assert.True(submits > 0);
        Assert.Equal(submits, completes);
        Assert.Empty(pending);
    }

    [CorpusFact]
    public void MoveNext_SteadyState_AllocatesNothingPerLine()
    {
        using var source = QemuLogSource.Open(DiskLogPath);
        // Warm up: the first 1000 lines hold every event shape of the file but the final
        // qemu_system_shutdown_request (first lines of each name checked with awk), so the next 80 000
        // lines meet only known types.
        for (int i = 0; i < 1000; i++)
            Assert.True(source.MoveNext());
        const int Measured = 80_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Measured; i++)
        {
            Assert.True(source.MoveNext());
            _ = source.Current.Timestamp;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Tiered PGO's re-JIT allocates about 2 KB once on this thread (0 bytes with
        // DOTNET_TieredPGO=0); a single 8-byte allocation per line would be 640 KB.
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated over {Measured} lines");
    }

    [CorpusFact]
    public void LooksLikeQemuLog_CorpusLogAndTraceDat_TellThemApart()
    {
        Assert.True(QemuLogSource.LooksLikeQemuLog(Corpus.Path("tcg-qemu/s2-cpu-contention/qemu-vmA.log")));
        Assert.False(QemuLogSource.LooksLikeQemuLog(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat")));
        Assert.False(QemuLogSource.LooksLikeQemuLog(Corpus.Path("tcg-qemu/s2-cpu-contention/event-counts.txt")));
    }

    /// <summary>Parses "qemu log vmX: name=count, name=count" of the scenario's event-counts.txt.</summary>
    private static Dictionary<string, long> ExpectedCounts(string scenario, string vm)
    {
        string prefix = $"qemu log {vm}: ";
        string line = File.ReadLines(Corpus.Path($"tcg-qemu/{scenario}/event-counts.txt"))
            .Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line[prefix.Length..].Split(", ")
            .Select(pair => pair.Split('='))
            .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^(\d+)@(\d+)\.(\d{6}):(\w+)")]
    private static partial Regex PrefixPattern();
}
