using System.Globalization;
using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// <c>vmtrace top --replay</c> run as a process: every refresh is one window of the analysis core, so its per-VM figures
/// equal <c>vmtrace analyze --window</c>'s on the same trace, window by window (no figure here is written by hand: each
/// side is the product's own output). Traces: samples/tcg-3vms (three TCG guests: disk, network, preemption) and the real
/// KVM host trace hip24-kvm-host-allkvm (exits by reason).
/// </summary>
public class TopCommandTests
{
    private static string Tcg => Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms", "trace.dat.xz");

    private static string Kvm => Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat");

    public static TheoryData<string, string> Traces => new() { { "tcg", "1s" }, { "tcg", "500ms" }, { "kvm", "1s" } };

    private static string TraceOf(string name) => name == "tcg" ? Tcg : Kvm;

    [Theory]
    [MemberData(nameof(Traces))]
    public async Task ReplayOnceJson_EqualsAnalyze_WindowByWindow(string trace, string interval)
    {
        var analyze = await VmtraceProcess.RunAsync(["analyze", TraceOf(trace), "--format", "json", "--window", interval, "--no-progress"]);
        var top = await VmtraceProcess.RunAsync(["top", "--replay", TraceOf(trace), "--once", "--format", "json", "--interval", interval]);
        Assert.Equal(0, analyze.ExitCode);
        Assert.Equal(0, top.ExitCode);
        Assert.False(top.HasStackTrace);
        using var a = JsonDocument.Parse(analyze.Stdout);
        using var t = JsonDocument.Parse(top.Stdout);
        var aWindows = a.RootElement.GetProperty("windows").EnumerateArray().ToList();
        var tWindows = t.RootElement.GetProperty("windows").EnumerateArray().ToList();
        Assert.NotEmpty(aWindows);
        Assert.Equal(aWindows.Count, tWindows.Count);
        int rows = 0;
        for (int i = 0; i < aWindows.Count; i++)
        {
            Assert.Equal(aWindows[i].GetProperty("start_ns").GetInt64(), tWindows[i].GetProperty("start_ns").GetInt64());
            Assert.Equal(aWindows[i].GetProperty("end_ns").GetInt64(), tWindows[i].GetProperty("end_ns").GetInt64());
            var topVms = tWindows[i].GetProperty("vms").EnumerateArray().ToDictionary(v => v.GetProperty("vm").GetString()!);
            var analyzeVms = aWindows[i].GetProperty("vms").EnumerateArray().ToList();
            Assert.Equal(analyzeVms.Select(v => v.GetProperty("vm").GetString()).Order(), topVms.Keys.Order());
            foreach (var av in analyzeVms)
            {
                AssertRowEqualsAnalyze(av, topVms[av.GetProperty("vm").GetString()!]);
                rows++;
            }
        }
        Assert.True(rows > 0);
        if (trace == "kvm")
            Assert.Contains(tWindows, w => w.GetProperty("vms").EnumerateArray().Any(v => v.GetProperty("exits").GetInt64() > 0));
    }

    private static void AssertRowEqualsAnalyze(JsonElement analyze, JsonElement top)
    {
        var times = analyze.GetProperty("vcpu_times");
        Assert.Equal(analyze.GetProperty("pid").GetInt64(), top.GetProperty("pid").GetInt64());
        Assert.Equal(analyze.GetProperty("pcpu_share").GetDouble(), top.GetProperty("pcpu_share").GetDouble());
        Assert.Equal(analyze.GetProperty("threads_cpu_ns").GetInt64(), top.GetProperty("threads_on_cpu_ns").GetInt64());
        foreach (string f in new[] { "guest_ns", "host_ns", "preempted_ns", "wait_ns", "blocked_queued_ns" })
            Assert.Equal(times.GetProperty(f).GetInt64(), top.GetProperty(f).GetInt64());
        Assert.Equal(times.GetProperty("preempted_ns").GetInt64() + times.GetProperty("wait_ns").GetInt64() + times.GetProperty("blocked_queued_ns").GetInt64(),
            top.GetProperty("steal_ns").GetInt64());
        Assert.Equal(analyze.GetProperty("vcpus").GetArrayLength(), top.GetProperty("vcpus").GetInt32());
        var exits = analyze.GetProperty("exits").EnumerateArray().Select(x => (Reason: x.GetProperty("reason").GetInt32(), Count: x.GetProperty("count").GetInt64())).ToList();
        Assert.Equal(exits.Sum(x => x.Count), top.GetProperty("exits").GetInt64());
        var expectedTop = exits.OrderByDescending(x => x.Count).ThenBy(x => x.Reason).Take(3).ToList();
        Assert.Equal(expectedTop, top.GetProperty("top_exits").EnumerateArray().Select(x => (x.GetProperty("reason").GetInt32(), x.GetProperty("count").GetInt64())).ToList());
        var disk = analyze.GetProperty(top.GetProperty("disk_layer").GetString() == "block" ? "block_disk" : "qemu_disk");
        Assert.Equal(disk.GetProperty("read_bytes").GetInt64(), top.GetProperty("disk_read_bytes").GetInt64());
        Assert.Equal(disk.GetProperty("write_bytes").GetInt64(), top.GetProperty("disk_write_bytes").GetInt64());
        Assert.Equal(disk.GetProperty("completed").GetInt64(), top.GetProperty("disk_completed").GetInt64());
        var net = analyze.GetProperty("network");
        foreach (string f in new[] { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes" })
            Assert.Equal(net.GetProperty(f).GetInt64(), top.GetProperty("net_" + f).GetInt64());
    }

    [Fact]
    public async Task ReplayOnceCsv_RowsEqualTheJsonRows()
    {
        var json = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "json"]);
        var csv = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "csv"]);
        Assert.Equal(0, csv.ExitCode);
        var lines = csv.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] header = lines[0].Split(',');
        using var doc = JsonDocument.Parse(json.Stdout);
        var expected = doc.RootElement.GetProperty("windows").EnumerateArray()
            .SelectMany(w => w.GetProperty("vms").EnumerateArray().Select(v => (Start: w.GetProperty("start_ns").GetInt64(), Vm: v))).ToList();
        Assert.Equal(expected.Count, lines.Length - 1);
        for (int i = 0; i < expected.Count; i++)
        {
            // The sample's names and exit lists hold no comma: a plain split reads the row.
            string[] cells = lines[i + 1].Split(',');
            Assert.Equal(header.Length, cells.Length);
            Assert.Equal(expected[i].Start.ToString(CultureInfo.InvariantCulture), cells[Array.IndexOf(header, "start_ns")]);
            Assert.Equal(expected[i].Vm.GetProperty("vm").GetString(), cells[Array.IndexOf(header, "vm")]);
            foreach (string f in new[] { "guest_ns", "host_ns", "preempted_ns", "wait_ns", "steal_ns", "exits", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes", "threads_on_cpu_ns" })
                Assert.Equal(expected[i].Vm.GetProperty(f).GetInt64().ToString(CultureInfo.InvariantCulture), cells[Array.IndexOf(header, f)]);
            Assert.Equal(expected[i].Vm.GetProperty("pcpu_share").GetDouble(), double.Parse(cells[Array.IndexOf(header, "pcpu_share")], CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("cpu", "pcpu_share")]
    [InlineData("steal", "steal_ns")]
    [InlineData("disk", null)]
    [InlineData("net", null)]
    [InlineData("name", null)]
    public async Task Sort_OrdersEveryRefresh(string key, string? field)
    {
        var r = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "json", "--sort", key]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        foreach (var w in doc.RootElement.GetProperty("windows").EnumerateArray())
        {
            var vms = w.GetProperty("vms").EnumerateArray().ToList();
            var names = vms.Select(v => v.GetProperty("vm").GetString()!).ToList();
            double Key(JsonElement v) => key switch
            {
                "disk" => v.GetProperty("disk_read_bytes").GetInt64() + v.GetProperty("disk_write_bytes").GetInt64(),
                "net" => v.GetProperty("net_rx_bytes").GetInt64() + v.GetProperty("net_tx_bytes").GetInt64(),
                _ => v.GetProperty(field!).GetDouble(),
            };
            var expected = key == "name" ? names.Order(StringComparer.Ordinal).ToList()
                : vms.OrderByDescending(Key).ThenBy(v => v.GetProperty("vm").GetString(), StringComparer.Ordinal).Select(v => v.GetProperty("vm").GetString()!).ToList();
            Assert.Equal(expected, names);
        }
    }

    [Fact]
    public async Task Sort_ByExits_OnTheKvmTrace()
    {
        var r = await VmtraceProcess.RunAsync(["top", "--replay", Kvm, "--once", "--format", "json", "--sort", "exits"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        foreach (var w in doc.RootElement.GetProperty("windows").EnumerateArray())
        {
            var exits = w.GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("exits").GetInt64()).ToList();
            Assert.Equal(exits.OrderDescending(), exits);
        }
    }

    [Fact]
    public async Task VmFilter_KeepsOnlyTheNamedVms()
    {
        var all = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "json"]);
        var some = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "json", "--vm", "db,edge"]);
        Assert.Equal(0, some.ExitCode);
        using var a = JsonDocument.Parse(all.Stdout);
        using var s = JsonDocument.Parse(some.Stdout);
        var allWindows = a.RootElement.GetProperty("windows").EnumerateArray().ToList();
        var someWindows = s.RootElement.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(allWindows.Count, someWindows.Count);
        for (int i = 0; i < allWindows.Count; i++)
        {
            var kept = someWindows[i].GetProperty("vms").EnumerateArray().Select(v => v.GetRawText()).ToList();
            var expected = allWindows[i].GetProperty("vms").EnumerateArray().Where(v => v.GetProperty("vm").GetString() is "db" or "edge").Select(v => v.GetRawText()).ToList();
            Assert.Equal(expected, kept);
        }
        Assert.Contains(someWindows, w => w.GetProperty("vms").GetArrayLength() == 2);
    }

    [Fact]
    public async Task ReplayOnceTable_OneBlockPerWindow()
    {
        var json = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--format", "json"]);
        var table = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", "--vm", "web"]);
        Assert.Equal(0, table.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var lines = table.Stdout.Split('\n');
        Assert.Equal(doc.RootElement.GetProperty("windows").GetArrayLength(), lines.Count(l => l.StartsWith("vmtrace top: tcg-3vms   window ", StringComparison.Ordinal)));
        Assert.All(lines.Where(l => l.Length > 0 && !l.StartsWith("vmtrace top:", StringComparison.Ordinal) && !l.StartsWith("VM ", StringComparison.Ordinal)),
            l => Assert.StartsWith("web ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Help_NamesTheOptionsAndTheLiveRequirement()
    {
        var r = await VmtraceProcess.RunAsync(["top", "--help"]);
        Assert.Equal(0, r.ExitCode);
        foreach (string option in new[] { "--replay", "--speed", "--once", "--format", "--interval", "--sort", "--vm" })
            Assert.Contains(option, r.Stdout, StringComparison.Ordinal);
        Assert.Contains("needs root and tracefs", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--sort", "size")]
    [InlineData("--format", "xml")]
    [InlineData("--speed", "-1")]
    [InlineData("--interval", "0s")]
    public async Task BadOption_OneLineUsageError(string option, string value)
    {
        var r = await VmtraceProcess.RunAsync(["top", "--replay", Tcg, "--once", option, value]);
        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace);
        Assert.StartsWith("vmtrace: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(option, r.StderrLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingTrace_OneLineError_Exit1()
    {
        var r = await VmtraceProcess.RunAsync(["top", "--replay", "/nonexistent/trace.dat", "--once"]);
        Assert.Equal(1, r.ExitCode);
        Assert.False(r.HasStackTrace);
        Assert.Single(r.StderrLines);
    }
}
