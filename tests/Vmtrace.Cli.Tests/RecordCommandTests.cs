using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// <c>vmtrace record</c>'s own sample (samples/vmtrace-record-tcg, made by scripts/tcg-lab/record-with-vmtrace.sh: one
/// TCG guest, 2 vCPUs busy, recorded with <c>vmtrace record --duration 3s</c>) analysed, and its usage errors.
/// </summary>
public class RecordCommandTests
{
    private static string Sample => Path.Combine(Corpus.RepoRoot, "samples", "vmtrace-record-tcg");

    [Fact]
    public async Task Analyze_VmtraceRecordSample_OneVmAllVcpusNoQemuThreadBlamedAsHost()
    {
        var r = await CliRun.RunAsync("analyze", Sample, "--format", "json", "--no-progress");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(Sample, "vmmap.json")));
        var recorded = Assert.Single(map.RootElement.GetProperty("vms").EnumerateArray());

        var vm = Assert.Single(doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray());
        Assert.Equal("web", vm.GetProperty("vm").GetString());
        Assert.Equal(recorded.GetProperty("pid").GetInt32(), vm.GetProperty("pid").GetInt32());
        Assert.Equal("vmmap", vm.GetProperty("identity").GetString());
        var vcpuTids = recorded.GetProperty("threads").EnumerateArray().Where(t => t.GetProperty("role").GetString() == "vcpu")
            .Select(t => t.GetProperty("tid").GetInt32()).Order().ToArray();
        Assert.Equal(2, vcpuTids.Length);
        Assert.Equal(vcpuTids, vm.GetProperty("vcpus").EnumerateArray().Select(v => v.GetProperty("tid").GetInt32()).Order().ToArray());
        Assert.Equal([0, 1], vm.GetProperty("vcpus").EnumerateArray().Select(v => v.GetProperty("vcpu").GetInt32()).Order().ToArray());

        // Its vCPUs preempt each other (2 busy vCPUs on 2 CPUs): that time is the VM's own, never a host process's.
        var culprits = vm.GetProperty("preempted_by").EnumerateArray().Select(c => c.GetProperty("culprit").GetString()!).ToList();
        Assert.Contains("web", culprits);
        var qemuComms = recorded.GetProperty("threads").EnumerateArray().Select(t => "host:" + t.GetProperty("comm").GetString()).ToHashSet();
        Assert.DoesNotContain(culprits, qemuComms.Contains);
    }

    [Fact]
    public async Task Record_UnknownOption_OneLineExit2()
    {
        var r = await CliRun.RunAsync("record", "-o", Path.Combine(Path.GetTempPath(), "never-made"), "--writer", "perf");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("vmtrace record: writer 'perf' is not one of auto, trace-cmd, tracefs (vmtrace record --help)", r.Stderr.TrimEnd('\n'));
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-made")));
    }

    [Fact]
    public async Task Record_Help_UsageExit0()
    {
        var r = await CliRun.RunAsync("record", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("record -o DIR [--duration 30s]", r.Stdout, StringComparison.Ordinal);
    }
}
