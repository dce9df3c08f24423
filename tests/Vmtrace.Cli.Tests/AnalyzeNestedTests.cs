using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// Nested VMs through <c>vmtrace analyze</c> on samples/nested-synthetic, a hand-written L0 trace (no nested KVM was traced on
/// the development machines): its README derives every expected figure from the event times.
/// </summary>
public class AnalyzeNestedTests
{
    private static string Synthetic => Path.Combine(Corpus.RepoRoot, "samples", "nested-synthetic", "host.xml");

    [Fact]
    public async Task Analyze_NestedSynthetic_JsonHasEachL2VcpuTimeByState()
    {
        var r = await CliRun.RunAsync("analyze", Synthetic, "--format", "json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("counters").GetProperty("nested_events_out_of_sequence").GetInt64());
        foreach (var scope in new[] { doc.RootElement.GetProperty("total"), Assert.Single(doc.RootElement.GetProperty("windows").EnumerateArray()) })
        {
            var vm = Assert.Single(scope.GetProperty("vms").EnumerateArray());
            var guest = Assert.Single(vm.GetProperty("nested").EnumerateArray());
            Assert.Equal("ept:0x5000", guest.GetProperty("l2").GetString());
            var v = Assert.Single(guest.GetProperty("vcpus").EnumerateArray());
            Assert.Equal(MetricSchema.NestedOutput.JsonVcpu.Fields.Select(f => f.Name), v.EnumerateObject().Select(p => p.Name));
            Assert.Equal("0xa000", v.GetProperty("vmcs").GetString());
            long[] figures = [.. new[] { "l2_vcpu", "l1_vcpu", "l2_running_ns", "l1_root_ns", "l0_root_ns", "l1_preempted_ns", "l1_blocked_ns",
                "l2_exits", "reflected_exits", "l1_exits" }.Select(n => v.GetProperty(n).GetInt64())];
            // samples/nested-synthetic/README.md: 33 000 running, 11 700 L1 root, 4 800 L0 root, 10 000 preempted; 4 exits, 1 reflected, 1 of the L1.
            Assert.Equal([0, 0, 33_000, 11_700, 4_800, 10_000, 0, 4, 1, 1], figures);
        }
    }

    [Fact]
    public async Task Analyze_NestedSynthetic_TableAndLineProtocolCarryTheSameFigures()
    {
        var table = await CliRun.RunAsync("analyze", Synthetic, "--no-progress");
        Assert.Equal(0, table.ExitCode);
        int at = Array.FindIndex(table.StdoutLines, l => l.Trim() == "nested L2 guest ept:0x5000:");
        Assert.True(at >= 0, table.Stdout);
        string row = table.StdoutLines[at + 2];
        string expected = string.Join(' ', "0", "0", Units.Duration(33_000), Units.Duration(11_700), Units.Duration(4_800), Units.Duration(10_000),
            Units.Duration(0), "4", "1", "1");
        Assert.Equal(expected.Split(' '), row.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        var lp = await CliRun.RunAsync("analyze", Synthetic, "--format", "line-protocol", "--host", "lab", "--no-progress");
        Assert.Equal(0, lp.ExitCode);
        var point = Assert.Single(lp.StdoutLines, l => l.StartsWith("vmtrace_nested,", StringComparison.Ordinal));
        Assert.StartsWith("vmtrace_nested,host=lab,vm=", point, StringComparison.Ordinal);
        Assert.Contains(",l2=ept:0x5000,l2_vcpu=0 l1_vcpu=0i,l2_running_ns=33000i,l1_root_ns=11700i,l0_root_ns=4800i,l1_preempted_ns=10000i,"
            + "l1_blocked_ns=0i,l2_exits=4i,reflected_exits=1i,l1_exits=1i ", point, StringComparison.Ordinal);
    }

    /// <summary>A host without nested events (the Trace Compass stub, hip24's KVM host) writes nothing of it.</summary>
    [CorpusFact]
    public async Task Analyze_HostsWithoutNestedEvents_NoNestedOutput()
    {
        foreach (var trace in new[] { "tracecompass-vm-xml-stubs/OneQemuKvm/host.xml", "hip24-kvm-host-2vms-46s/host.trace.dat" })
        {
            var json = await CliRun.RunAsync("analyze", Corpus.Path(trace), "--format", "json");
            Assert.Equal(0, json.ExitCode);
            Assert.DoesNotContain("\"nested\"", json.Stdout, StringComparison.Ordinal);
            var lp = await CliRun.RunAsync("analyze", Corpus.Path(trace), "--format", "line-protocol", "--no-progress");
            Assert.DoesNotContain(lp.StdoutLines, l => l.StartsWith("vmtrace_nested", StringComparison.Ordinal));
        }
    }
}
