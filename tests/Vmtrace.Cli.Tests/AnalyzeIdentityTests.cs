using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// How each VM was identified, in every output of <c>vmtrace analyze</c>: on samples/plain-trace-cmd/3vm (three
/// guests, no vmmap.json, no tgids: a guess, warned about) and on samples/tcg-3vms (its vmmap.json).
/// </summary>
public class AnalyzeIdentityTests
{
    private static string Plain => Path.Combine(Corpus.RepoRoot, "samples", "plain-trace-cmd", "3vm", "notgid.dat.xz");

    private static string WithVmmap => Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms", "trace.dat.xz");

    /// <summary>The qemu pids of samples/plain-trace-cmd/3vm (its labels.txt).</summary>
    private static readonly string[] PlainVms = ["qemu-14313", "qemu-14315", "qemu-14317"];

    [Fact]
    public async Task Analyze_PlainTrace_TableSaysGuessAndWarnsOnStderr()
    {
        var r = await CliRun.RunAsync("analyze", Plain, "--no-progress");
        Assert.Equal(0, r.ExitCode);
        foreach (var vm in PlainVms)
        {
            Assert.Contains(r.StdoutLines, l => l.StartsWith($"VM {vm}  (pid {vm[5..]}; identity guess: ", StringComparison.Ordinal));
            Assert.Contains($"vmtrace: warning: VM {vm}: identity guessed", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(3, r.StdoutLines.Count(l => l.Contains("warning: this VM's identity is a guess", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Analyze_PlainTrace_JsonCsvAndLineProtocolCarryTheIdentity()
    {
        var json = await CliRun.RunAsync("analyze", Plain, "--format", "json");
        using var doc = JsonDocument.Parse(json.Stdout);
        var vms = doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray().ToList();
        Assert.Equal(PlainVms, vms.Select(v => v.GetProperty("vm").GetString()));
        Assert.All(vms, v => Assert.Equal("guess", v.GetProperty("identity").GetString()));
        Assert.All(vms, v => Assert.Contains("grouped by wake-ups", v.GetProperty("origin").GetString(), StringComparison.Ordinal));

        var csv = await CliRun.RunAsync("analyze", Plain, "--format", "csv");
        var header = csv.StdoutLines[0].Split(',');
        int identity = Array.IndexOf(header, "identity");
        Assert.True(identity >= 0, "no identity column");
        Assert.All(csv.StdoutLines.Skip(1), l => Assert.Equal("guess", l.Split(',')[identity]));

        var lines = await CliRun.RunAsync("analyze", Plain, "--format", "line-protocol");
        var vmLines = lines.StdoutLines.Where(l => l.StartsWith("vmtrace_vm,", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(vmLines);
        Assert.All(vmLines, l => Assert.Contains(",identity=\"guess\" ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Analyze_TraceWithVmmapBesideIt_IdentityIsVmmapWithoutWarning()
    {
        var r = await CliRun.RunAsync("analyze", WithVmmap, "--format", "json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var vms = doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray().ToList();
        Assert.Equal(["db", "edge", "web"], vms.Select(v => v.GetProperty("vm").GetString()).Order(StringComparer.Ordinal));
        Assert.All(vms, v => Assert.Equal("vmmap", v.GetProperty("identity").GetString()));
        Assert.DoesNotContain("identity guessed", r.Stderr, StringComparison.Ordinal);
    }
}
