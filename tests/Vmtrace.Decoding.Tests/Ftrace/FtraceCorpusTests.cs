using System.Globalization;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>The trace.dat reader against the real traces and trace-cmd's own text of them.</summary>
public class FtraceCorpusTests
{
    public static TheoryData<string, string> HostTraces => new()
    {
        { "hip24-kvm-host-guest-pair/host.trace.dat", "hip24-kvm-host-guest-pair/host.report-raw.txt" },
        { "hip24-kvm-host-allkvm/host.trace.dat", "hip24-kvm-host-allkvm/host.report-raw.txt" },
        { "hip24-kvm-host-2vms-46s/host.trace.dat", "hip24-kvm-host-2vms-46s/host.report-raw.txt.gz" },
    };

    public static TheoryData<string> TcgScenarios => new() { "s2-cpu-contention", "s3-disk-vs-cpu", "s4-net" };

    [CorpusTheory]
    [MemberData(nameof(HostTraces))]
    [InlineData("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat", "hip24-kvm-host-guest-pair/guest-Salamander4.report-raw.txt.gz")]
    public void Open_Hip24Trace_CountsPerEventEqualTraceCmdExport(string trace, string export)
    {
        var expected = ReportRawText.CountByEvent(ReportRawText.Parse(ReportRawText.ReadLines(Corpus.Path(export))));

        using var source = TraceOpener.Open(Corpus.Path(trace));
        var actual = FtraceReading.CountByEvent(source, out long lost);

        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(0, lost);
        Assert.True(source.Diagnostics.IsClean, string.Join("\n", source.Diagnostics.Errors.Select(e => e.Message)));
    }

    [CorpusTheory]
    [MemberData(nameof(HostTraces))]
    public void Open_Hip24HostTrace_EventsEqualTraceCmdExportFieldByField(string trace, string export)
    {
        using var source = TraceOpener.Open(Corpus.Path(trace));

        // The first 5000 events, then every 97th, to the end: timestamp, CPU, thread, comm, name and every field.
        var problems = FtraceReading.CompareWithReport(source, ReportRawText.Parse(ReportRawText.ReadLines(Corpus.Path(export))), int.MaxValue,
            checkComm: true, keepEvery: 97);

        Assert.Empty(problems);
        Assert.False(source.MoveNext(), "the reader has events the export does not");
    }

    [CorpusFact]
    public void Open_GuestTraceWithTimeShift_TimestampsAndThreadsEqualExportInHostTime()
    {
        // The export shows the guest in host time (TIME_SHIFT applied); fields of this guest are printed with
        // symbols and print-format text, so only timestamps, CPUs, threads and names are compared here.
        using var source = FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"));
        var lines = ReportRawText.Parse(ReportRawText.ReadLines(Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.report-raw.txt.gz")));

        int n = 0;
        foreach (var line in lines.Take(5000))
        {
            Assert.True(source.MoveNext());
            var e = source.Current;
            Assert.True(e.Timestamp == line.Timestamp && e.Cpu == line.Cpu && e.Tid == line.Tid && e.Type.Name == line.Event,
                $"#{n}: {e.Timestamp} [{e.Cpu}] {e.Tid} {e.Type.Name} ≠ {line.Text}");
            n++;
        }
        Assert.Equal(5000, n);
        Assert.NotNull(source.Metadata.TimeShift);
        Assert.Equal(0x2C75FF89FDAF813CUL, source.Metadata.TimeShift!.PeerTraceId);
    }

    [CorpusFact]
    public void Open_HostTraceWithGuestOption_ExposesGuestCpuToHostThread()
    {
        // SOURCES.md: "The host file has a GUEST option: guest CPU 0 ↔ host pid 483882". The option names the
        // guest by the trace id its own file carries (TRACEID option of the guest trace); its name string is empty.
        using var source = FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"));
        using var guestTrace = FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"));

        var guest = Assert.Single(source.Guests);
        Assert.Equal(guestTrace.Metadata.TraceId, guest.TraceId);
        Assert.Equal(483882, guest.HostTidByGuestCpu[0]);
        Assert.Equal(source.Metadata.TraceId, guestTrace.Metadata.TimeShift!.PeerTraceId);
        Assert.Equal(TraceClockKind.Unknown, source.Clock); // x86-tsc converted to ns by TSC2NSEC: no known origin
        Assert.Equal(20, source.CpuCount);
        Assert.Equal("qemu-system-x86", source.InitialThreadNames[483882]);
    }

    [CorpusFact]
    public void Open_TscTraceWithoutTsc2Nsec_ReportsCyclesClock()
    {
        using var source = FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"));

        Assert.Null(source.Metadata.Tsc2Nsec);
        Assert.Equal(TraceClockKind.Cycles, source.Clock);
        Assert.True(source.MoveNext());
        // SOURCES.md and the export: the first timestamp is the raw TSC value 303280081900681.
        Assert.Equal(303280081900681L, source.Current.Timestamp);
    }

    [CorpusTheory]
    [MemberData(nameof(TcgScenarios))]
    public void TraceOpenerOpen_TcgQemuXz_CountsPerEventEqualEventCountsFile(string scenario)
    {
        var expected = ReadEventCounts(Corpus.Path($"tcg-qemu/{scenario}/event-counts.txt"));

        using var source = TraceOpener.Open(Corpus.Path($"tcg-qemu/{scenario}/trace.dat.xz"));
        var actual = FtraceReading.CountByEvent(source, out long lost);

        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(0, lost);
        Assert.Equal(TraceClockKind.Realtime, source.Clock);
        Assert.Equal(2, source.CpuCount);
        Assert.NotEmpty(source.InitialThreadNames);
        Assert.True(TraceOpener.DiagnosticsOf(source).IsClean);
    }

    [ToolFact("trace-cmd")]
    public void Open_TcgQemuTrace_EventsEqualTraceCmdReportRunNow()
    {
        string file = FtraceReading.UnpackedTcgTrace("s2-cpu-contention");
        string report = Tools.Run("trace-cmd", "report", "-R", "-t", file);

        using var source = FtraceFileSource.OpenTraceDat(file);
        // The first 5000 events, then every 37th, field by field.
        var problems = FtraceReading.CompareWithReport(source, ReportRawText.Parse(report.Split('\n')), int.MaxValue, checkComm: false, keepEvery: 37);

        Assert.Empty(problems);
        Assert.False(source.MoveNext(), "the reader has events trace-cmd does not");
    }

    [ToolFact("trace-cmd")]
    public void Open_ZstdV7FileConvertedByTraceCmd_EventsEqualTraceCmdReport() => CheckConvertedV7("zstd");

    [ToolFact("trace-cmd")]
    public void Open_UncompressedV7FileConvertedByTraceCmd_EventsEqualTraceCmdReport() => CheckConvertedV7("none");

    private static void CheckConvertedV7(string compression)
    {
        // The corpus has no zstd or uncompressed v7 file: trace-cmd makes one from a v6 trace at test time.
        using var temp = new Vmtrace.Decoding.Archives.TempDirectory();
        string converted = Path.Combine(temp.Path, $"s2-{compression}.dat");
        Tools.Run("trace-cmd", "convert", "--file-version", "7", "--compression", compression,
            "-i", FtraceReading.UnpackedTcgTrace("s2-cpu-contention"), "-o", converted);
        string report = Tools.Run("trace-cmd", "report", "-R", "-t", converted);

        using var source = FtraceFileSource.OpenTraceDat(converted);
        Assert.Equal(7, source.Metadata.Version);
        Assert.Equal(compression, source.Metadata.CompressionName);
        var problems = FtraceReading.CompareWithReport(source, ReportRawText.Parse(report.Split('\n')), int.MaxValue, checkComm: false, keepEvery: 101);

        Assert.Empty(problems);
        Assert.False(source.MoveNext(), "the reader has events trace-cmd does not");
        Assert.True(source.Diagnostics.IsClean, string.Join("\n", source.Diagnostics.Errors.Select(e => e.Message)));
    }

    /// <summary>event-counts.txt: a header line, then "count name" lines, then other facts (qemu logs, sched refs).</summary>
    private static Dictionary<string, long> ReadEventCounts(string path)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                break;
            counts[parts[1]] = n;
        }
        Assert.NotEmpty(counts);
        return counts;
    }
}
