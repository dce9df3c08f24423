using System.Globalization;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary><c>vmtrace dump</c> on the trace-cmd and CTF corpus against the reference tools' own output.</summary>
public partial class DumpRealTraceTests
{
    [CorpusFact]
    public async Task Dump_StatsOnTraceCmdV7Zlib_CountsMatchTraceCmdTextExport()
    {
        // host.report-raw.txt is `trace-cmd report -t -R` of the same file (SOURCES.md 1b): one event per line.
        var expected = CountNames(File.ReadLines(Corpus.Path("hip24-kvm-host-allkvm/host.report-raw.txt")), TraceCmdLine());

        var r = await CliRun.RunAsync("dump", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(expected.OrderBy(kv => kv.Key), StatsOutput.Counts(r.StdoutLines).OrderBy(kv => kv.Key));
        Assert.Contains($"events: {expected.Values.Sum()}", r.StdoutLines);
        Assert.Equal("", r.Stderr);
    }

    [CorpusFact]
    public async Task Dump_TraceCmdFile_OneLinePerEventWithTheExportsTimestamps()
    {
        // The raw export prints each event's timestamp in ns (trace-cmd report -t) after "[cpu]".
        var exportLines = File.ReadLines(Corpus.Path("hip24-kvm-host-allkvm/host.report-raw.txt")).Skip(1).Take(20).ToList();

        var r = await CliRun.RunAsync("dump", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--limit", "20");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(20, r.StdoutLines.Length);
        for (int i = 0; i < 20; i++)
        {
            var m = TraceCmdLine().Match(exportLines[i]);
            Assert.True(m.Success, exportLines[i]);
            long ns = long.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture);
            string seconds = $"{ns / 1_000_000_000L}.{ns % 1_000_000_000L:D9}";
            int cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            Assert.StartsWith($"{seconds} [{cpu}] ", r.StdoutLines[i], StringComparison.Ordinal);
            Assert.Contains($" {m.Groups["name"].Value}:", r.StdoutLines[i], StringComparison.Ordinal);
        }
    }

    [CorpusFact]
    public async Task Dump_PrintEventsWithNewlines_StillOneLinePerEvent()
    {
        // s3's trace_marker lines ("tcg_marker scenario_start …\n") come within its first 5000 events.
        var r = await CliRun.RunAsync("dump", Corpus.Path("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz"), "--limit", "5000");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(5000, r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var prints = r.StdoutLines.Where(l => l.Contains(" print: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(prints);
        Assert.All(prints, l => Assert.EndsWith("\\n\"", l, StringComparison.Ordinal));
    }

    [ToolFact("babeltrace2")]
    public async Task Dump_StatsOnCtfDirectory_CountsMatchBabeltrace2()
    {
        string trace = Corpus.Path("tracecompass-test-traces-ctf/flipping-endianness");
        var expected = CountNames(Tools.Run("babeltrace2", trace).Split('\n'), BabeltraceLine());

        var r = await CliRun.RunAsync("dump", trace, "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.True(expected.Count > 0);
        Assert.Equal(expected.OrderBy(kv => kv.Key), StatsOutput.Counts(r.StdoutLines).OrderBy(kv => kv.Key));
        Assert.Equal("", r.Stderr);
    }

    [ToolFact("babeltrace2")]
    public async Task Dump_CtfDirectory_FirstLinesHaveBabeltrace2sNamesAndCpus()
    {
        string trace = Corpus.Path("tracecompass-test-traces-ctf/flipping-endianness");
        var reference = Tools.Run("babeltrace2", trace).Split('\n').Take(10).Select(l => BabeltraceLine().Match(l)).ToList();

        var r = await CliRun.RunAsync("dump", trace, "--limit", "10");

        Assert.Equal(10, r.StdoutLines.Length);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(reference[i].Success);
            Assert.Contains($"[{reference[i].Groups["cpu"].Value}] ", r.StdoutLines[i], StringComparison.Ordinal);
            Assert.Contains($" {reference[i].Groups["name"].Value}:", r.StdoutLines[i], StringComparison.Ordinal);
        }
    }

    [CorpusFact]
    public async Task Dump_StatsOnXzTraceDat_CountsMatchTraceCmdCounts()
    {
        // event-counts.txt lists "   COUNT NAME" as counted by `trace-cmd report` when the trace was recorded.
        var expected = CountLines(File.ReadLines(Corpus.Path("tcg-qemu/s4-net/event-counts.txt")));

        var r = await CliRun.RunAsync("dump", Corpus.Path("tcg-qemu/s4-net/trace.dat.xz"), "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(expected.OrderBy(kv => kv.Key), StatsOutput.Counts(r.StdoutLines).OrderBy(kv => kv.Key));
        Assert.Equal("", r.Stderr);
    }

    [CorpusFact]
    public async Task Dump_StatsOnPerfCtfTarXz_CountsMatchBabeltrace2Counts()
    {
        // perf-ctf-event-counts.txt: "   COUNT NAME" as counted by babeltrace2 (tcg-qemu/README.md).
        var expected = CountLines(File.ReadLines(Corpus.Path("tcg-qemu/s2-cpu-contention/perf-ctf-event-counts.txt")));

        var r = await CliRun.RunAsync("dump", Corpus.Path("tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz"), "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(expected.OrderBy(kv => kv.Key), StatsOutput.Counts(r.StdoutLines).OrderBy(kv => kv.Key));
        Assert.Equal("", r.Stderr);
    }

    private static Dictionary<string, long> CountLines(IEnumerable<string> lines) =>
        lines.Select(l => CountLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private static Dictionary<string, long> CountNames(IEnumerable<string> lines, Regex pattern)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var m = pattern.Match(line);
            if (m.Success)
                counts[m.Groups["name"].Value] = counts.GetValueOrDefault(m.Groups["name"].Value) + 1;
        }
        return counts;
    }

    [GeneratedRegex(@"^\s+(?<count>\d+) (?<name>\S+)$")]
    private static partial Regex CountLine();

    /// <summary>`trace-cmd report -t -R`: " comm-tid [005]303280081900681: kvm_exit: fields".</summary>
    [GeneratedRegex(@"\[(?<cpu>\d+)\]\s*(?<ts>\d+): (?<name>[\w:]+):")]
    private static partial Regex TraceCmdLine();

    /// <summary>babeltrace2's text sink: "[21:41:12.250167676] (+?.?????????) host name: { cpu_id = 0 }, …".</summary>
    [GeneratedRegex(@"^\[[^\]]+\] \([^)]+\) \S+ (?<name>\S+): \{ cpu_id = (?<cpu>\d+) \}")]
    private static partial Regex BabeltraceLine();
}
