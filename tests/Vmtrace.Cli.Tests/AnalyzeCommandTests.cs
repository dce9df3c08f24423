using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

public class AnalyzeCommandTests
{
    private static string Stub => Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml");

    /// <summary>The repository's own sample (the README's main command), with its vmmap.json beside it.</summary>
    private static string[] Sample()
    {
        string dir = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");
        return [Path.Combine(dir, "trace.dat.xz"), .. Directory.GetFiles(dir, "qemu-*.log.xz").Order(StringComparer.Ordinal)];
    }

    [CorpusFact]
    public async Task Analyze_OneQemuKvmStub_TableShowsVcpuSplitExitsAndCulprit()
    {
        var r = await CliRun.RunAsync("analyze", Stub, "--no-progress");
        Assert.Equal(0, r.ExitCode);
        var vcpuRow = Assert.Single(r.StdoutLines, l => l.TrimStart().StartsWith("0 ", StringComparison.Ordinal) && l.Contains("31", StringComparison.Ordinal));
        // GROUND_TRUTH.md A, worked out in TraceCompassStubTests: guest 185, host 65, preempted 100, 5 exits.
        Assert.Equal(["0", "31", "185", "ns", "65", "ns", "100", "ns", "0", "ns", "0", "ns", "5"], vcpuRow.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(r.StdoutLines, l => l.Contains("32 MSR_WRITE", StringComparison.Ordinal) && l.Contains("165 ns", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.Contains("host:any 100 ns", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("VM qemu-t31", StringComparison.Ordinal) && l.Contains("fallback", StringComparison.Ordinal));
    }

    /// <summary>samples/queued-sleep (scripts/queued-sleep/record.sh): sleep the kernel counts as run-queue wait, shown apart.</summary>
    [Fact]
    public async Task Analyze_QueuedSleepSample_TableShowsTheSleepTheKernelCountsAsWait()
    {
        string trace = Path.Combine(Corpus.RepoRoot, "samples", "queued-sleep", "trace.dat.xz");
        var json = await CliRun.RunAsync("analyze", trace, "--format", "json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var vm = Assert.Single(doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray());
        long queued = vm.GetProperty("vcpus")[0].GetProperty("times").GetProperty("blocked_queued_ns").GetInt64();
        Assert.True(queued > 0 && queued <= vm.GetProperty("vcpus")[0].GetProperty("times").GetProperty("blocked_ns").GetInt64());

        var table = await CliRun.RunAsync("analyze", trace, "--no-progress");
        Assert.Equal(0, table.ExitCode);
        var line = Assert.Single(table.StdoutLines, l => l.Contains("still queued by the kernel", StringComparison.Ordinal));
        Assert.EndsWith($"vCPU 0 {Units.Duration(queued)}", line, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task Analyze_JsonFormat_CarriesTheSameFigures()
    {
        var r = await CliRun.RunAsync("analyze", Stub, "--format", "json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var vm = doc.RootElement.GetProperty("total").GetProperty("vms")[0];
        var times = vm.GetProperty("vcpus")[0].GetProperty("times");
        Assert.Equal((185, 65, 100), (times.GetProperty("guest_ns").GetInt64(), times.GetProperty("host_ns").GetInt64(), times.GetProperty("preempted_ns").GetInt64()));
        var exit = vm.GetProperty("exits")[0];
        Assert.Equal((32, 5, 165, 15, 60), (exit.GetProperty("reason").GetInt32(), exit.GetProperty("count").GetInt64(),
            exit.GetProperty("latency_sum_ns").GetInt64(), exit.GetProperty("latency_min_ns").GetInt64(), exit.GetProperty("latency_max_ns").GetInt64()));
        Assert.Equal(1, doc.RootElement.GetProperty("windows").GetArrayLength());
    }

    [CorpusFact]
    public async Task Analyze_LineProtocolFormat_WritesPointsAtWindowStart()
    {
        var r = await CliRun.RunAsync("analyze", Stub, "--format", "line-protocol", "--host", "lab 1");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("vmtrace_vcpu,host=lab\\ 1,vm=qemu-t31,vcpu=0 tid=31i,guest_ns=185i,host_ns=65i,preempted_ns=100i,wait_ns=0i,blocked_ns=0i,blocked_queued_ns=0i,exits=5i 0", r.StdoutLines);
        Assert.Contains("vmtrace_interference,host=lab\\ 1,vm=qemu-t31,culprit=host:any preempted_ns=100i 0", r.StdoutLines);
    }

    [CorpusFact]
    public async Task Analyze_CsvFormat_OneRowPerWindowAndVm()
    {
        var r = await CliRun.RunAsync("analyze", Stub, "--format", "csv");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(2, r.StdoutLines.Length);
        var header = r.StdoutLines[0].Split(',');
        var row = r.StdoutLines[1].Split(',');
        Assert.Equal("185", row[Array.IndexOf(header, "guest_ns")]);
        Assert.Equal("host:any", row[Array.IndexOf(header, "top_culprit")]);
    }

    [Fact]
    public async Task Analyze_RepositorySample_NamesVmsFromInventoryBesideIt()
    {
        var r = await CliRun.RunAsync(["analyze", .. Sample(), "--no-progress"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("VM web ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("VM db ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("VM edge ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.Contains("disk (qemu thread pool)", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.TrimStart().StartsWith("network:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Analyze_RelativeRangeAndWindow_CutsWindowsExactly()
    {
        var r = await CliRun.RunAsync(["analyze", .. Sample(), "--format", "json", "--from", "+2s", "--to", "+4s", "--window", "500ms"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        long first = doc.RootElement.GetProperty("first_event_ns").GetInt64();
        var windows = doc.RootElement.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(first + 2_000_000_000L, windows[0].GetProperty("start_ns").GetInt64());
        Assert.Equal(first + 4_000_000_000L, windows[^1].GetProperty("end_ns").GetInt64());
        Assert.All(windows.Skip(1), w => Assert.Equal(0, w.GetProperty("start_ns").GetInt64() % 500_000_000L));
        for (int i = 1; i < windows.Count; i++)
            Assert.Equal(windows[i - 1].GetProperty("end_ns").GetInt64(), windows[i].GetProperty("start_ns").GetInt64());
    }

    [Fact]
    public async Task Analyze_VmFilter_KeepsOnlyThatVm()
    {
        var r = await CliRun.RunAsync(["analyze", .. Sample(), "--format", "json", "--vm", "db"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("db", Assert.Single(doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray()).GetProperty("vm").GetString());
        Assert.All(doc.RootElement.GetProperty("windows").EnumerateArray(),
            w => Assert.Equal("db", Assert.Single(w.GetProperty("vms").EnumerateArray()).GetProperty("vm").GetString()));
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--window", "fast")]
    [InlineData("--from", "yesterday")]
    [InlineData("--top", "0")]
    public async Task Analyze_BadOption_ExitsWithUsage(string option, string value)
    {
        var r = await CliRun.RunAsync("analyze", "whatever.dat", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Analyze_MissingTrace_ExitsOne()
    {
        var r = await CliRun.RunAsync("analyze", Path.Combine(Path.GetTempPath(), "no-such-vmtrace-trace.dat"), "--no-inventory");
        Assert.Equal(1, r.ExitCode);
    }
}
