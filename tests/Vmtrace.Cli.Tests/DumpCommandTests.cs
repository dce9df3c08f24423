using System.Globalization;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary><c>vmtrace dump</c> end to end through <see cref="CommandLine.RunAsync"/>.</summary>
public class DumpCommandTests
{
    private const string Submit = "27240@1795364913.850427:thread_pool_submit pool 0x5625be44b710 req 0x5625bf2a9e00 opaque 0x7f0c07fff920\n";
    private const string Shutdown = "26610@1795364853.617523:qemu_system_shutdown_request reason=6\n";

    [CorpusFact]
    public async Task Dump_QemuLog_PrintsOneLinePerEventInFileOrder()
    {
        string path = Corpus.Path("tcg-qemu/s2-cpu-contention/qemu-vmA.log");
        // Each line of a qemu log is one event: "TID@SECONDS.MICROS:NAME args".
        var logLines = File.ReadAllLines(path);

        var r = await CliRun.RunAsync("dump", path);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Equal(logLines.Length, r.StdoutLines.Length);
        for (int i = 0; i < logLines.Length; i++)
        {
            string tid = logLines[i][..logLines[i].IndexOf('@', StringComparison.Ordinal)];
            string name = logLines[i].Split(':', 2)[1].Split(' ')[0];
            Assert.Contains($" [-1] {tid} {name}:", r.StdoutLines[i], StringComparison.Ordinal);
        }
    }

    [CorpusFact]
    public async Task Dump_StatsOnXzQemuLog_CountsPerEventNameMatchEventCountsFile()
    {
        var expected = QemuLogCounts("s3-disk-vs-cpu", "vmD");

        var r = await CliRun.RunAsync("dump", Corpus.Path("tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz"), "--stats");

        Assert.Equal(0, r.ExitCode);
        var printed = StatsOutput.Counts(r.StdoutLines);
        Assert.Equal(expected.OrderBy(kv => kv.Key), printed.OrderBy(kv => kv.Key));
        Assert.Contains($"events: {expected.Values.Sum()}", r.StdoutLines);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("lost events: 0 ", StringComparison.Ordinal));
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task Dump_Limit_StopsAfterThatManyEvents()
    {
        using var log = new TempFile(Submit + Shutdown + Submit + Shutdown);

        var r = await CliRun.RunAsync("dump", log.Path, "--limit", "3");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(3, r.StdoutLines.Length);
        Assert.Equal("1795364913.850427000 [-1] 27240 thread_pool_submit: pool=0x5625be44b710, req=0x5625bf2a9e00, opaque=0x7f0c07fff920",
            r.StdoutLines[0]);
        Assert.Equal("1795364853.617523000 [-1] 26610 qemu_system_shutdown_request: reason=6", r.StdoutLines[1]);
    }

    [Fact]
    public async Task Dump_MissingPath_ExitsOneNamingThePath()
    {
        string missing = Path.Combine(Path.GetTempPath(), "vmtrace-no-such-" + Guid.NewGuid().ToString("N"), "trace.dat");

        var r = await CliRun.RunAsync("dump", missing);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains(missing, r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Dump_FileOfNoKnownFormat_ExitsOneNamingThePath()
    {
        using var file = new TempFile("just some text\nnothing a tracer wrote\n", ".txt");

        var r = await CliRun.RunAsync("dump", file.Path);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains(file.Path, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump_DirectoryWithoutTrace_ExitsOneNamingTheDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vmtrace-cli-empty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var r = await CliRun.RunAsync("dump", dir);

            Assert.Equal(1, r.ExitCode);
            Assert.Contains(dir, r.Stderr, StringComparison.Ordinal);
            Assert.Equal("", r.Stdout);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Theory]
    [InlineData("dump", "x.log", "--bogus")]
    [InlineData("dump", "x.log", "--limit")]
    [InlineData("dump", "x.log", "--limit", "ten")]
    [InlineData("dump", "x.log", "--limit", "-1")]
    [InlineData("dump", "x.log", "--stats=yes")]
    [InlineData("dump")]
    [InlineData("dump", "a.log", "b.log")]
    [InlineData("frobnicate")]
    public async Task Run_BadCommandLine_ExitsTwoWithUsage(params string[] args)
    {
        var r = await CliRun.RunAsync(args);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage: vmtrace", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Dump_CorruptQemuLog_WarnsWithFileAndOffsetAndPrintsReadableEvents()
    {
        const string Garbage = "\u0007\u0007 garbage \u0001\n";
        using var log = new TempFile(Submit + Garbage + Shutdown);

        var r = await CliRun.RunAsync("dump", log.Path);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(2, r.StdoutLines.Length);
        string warning = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("vmtrace: warning: ", warning, StringComparison.Ordinal);
        Assert.Contains(log.Path, warning, StringComparison.Ordinal);
        Assert.Contains($"at byte {Submit.Length.ToString(CultureInfo.InvariantCulture)}", warning, StringComparison.Ordinal);
        Assert.Contains("line 2", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump_StatsOnCorruptLog_CountsTheErrors()
    {
        using var log = new TempFile(Submit + "garbage\n" + Shutdown + "also garbage\n");

        var r = await CliRun.RunAsync("dump", log.Path, "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("events: 2", r.StdoutLines);
        Assert.Contains(r.StdoutLines, l => l.Contains("errors: 2,", StringComparison.Ordinal));
        Assert.Equal(2, r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Dump_ProgressForced_DrawsOnStderrAndNeverOnStdout()
    {
        // The bar is redrawn every 65 536 events: write more than that.
        using var log = new TempFile(string.Concat(Enumerable.Repeat(Submit, 70_000)));

        var r = await CliRun.RunAsync("dump", log.Path, "--stats", "--progress");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("70000 thread_pool_submit", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("events", r.Stderr, StringComparison.Ordinal);
        Assert.Contains('\r', r.Stderr);
        Assert.DoesNotContain('\r', r.Stdout);
        Assert.DoesNotContain("[#", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump_StderrNotATerminal_DrawsNoProgress()
    {
        using var log = new TempFile(string.Concat(Enumerable.Repeat(Submit, 70_000)));

        var r = await CliRun.RunAsync("dump", log.Path, "--stats");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
    }

    /// <summary>Parses "qemu log vmX: name=count, …" of the scenario's event-counts.txt.</summary>
    private static Dictionary<string, long> QemuLogCounts(string scenario, string vm)
    {
        string prefix = $"qemu log {vm}: ";
        string line = File.ReadLines(Corpus.Path($"tcg-qemu/{scenario}/event-counts.txt"))
            .Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line[prefix.Length..].Split(", ").Select(p => p.Split('='))
            .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}
