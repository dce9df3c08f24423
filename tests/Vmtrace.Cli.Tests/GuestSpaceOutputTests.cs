using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// Guest modes and guest address spaces in analyze's outputs, on the hand-built <see cref="GuestSpaceTrace"/> (its summary derives
/// each figure). Default 1 s windows: the whole trace is one window, so the figures are the totals of the trace.
/// </summary>
public sealed class GuestSpaceOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-cr3-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AnalyzeJson_Cr3Trace_GuestModesAndSpacesPerVm()
    {
        string trace = GuestSpaceTrace.WriteTo(_dir);
        var r = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var vms = doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray()
            .ToDictionary(vm => vm.GetProperty("vcpus")[0].GetProperty("tid").GetInt32());

        var a = vms[31];
        Assert.Equal((570L, 840L, 4L, 2L), Modes(a.GetProperty("guest_modes")));
        Assert.Equal((570L, 840L, 4L, 2L), Modes(a.GetProperty("vcpus")[0].GetProperty("guest_modes")));
        Assert.Equal([("0x1000", 480L), ("0x2000", 300L), ("0x3000", 90L), ("unknown", 540L)], Spaces(a));

        var b = vms[41];
        Assert.Equal(540, b.GetProperty("guest_modes").GetProperty("kernel_ns").GetInt64());
        var spaces = Spaces(b);
        Assert.Equal(9, spaces.Length);
        Assert.Equal(("0xa0000", 100L), spaces[0]);
        Assert.Equal(("other", 30L), spaces[^1]);
    }

    [Fact]
    public async Task AnalyzeLineProtocol_Cr3Trace_OnePointPerSpaceAndModesPerVmAndVcpu()
    {
        string trace = GuestSpaceTrace.WriteTo(_dir);
        var r = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "line-protocol", "--host", "h");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("vmtrace_guest_space,host=h,vm=qemu-t31,cr3=0x1000 guest_ns=480i 0", r.StdoutLines);
        Assert.Contains("vmtrace_guest_space,host=h,vm=qemu-t31,cr3=unknown guest_ns=540i 0", r.StdoutLines);
        Assert.Contains("vmtrace_guest_space,host=h,vm=qemu-t41,cr3=other guest_ns=30i 0", r.StdoutLines);
        Assert.Equal(9 + 4, r.StdoutLines.Count(l => l.StartsWith("vmtrace_guest_space,", StringComparison.Ordinal)));
        Assert.Contains("vmtrace_vm_guest,host=h,vm=qemu-t31 guest_kernel_ns=570i,guest_user_ns=840i,guest_runs=4i,guest_crossed_runs=2i 0", r.StdoutLines);
        Assert.Contains("vmtrace_vcpu_guest,host=h,vm=qemu-t41,vcpu=1 guest_kernel_ns=540i,guest_user_ns=0i,guest_runs=9i,guest_crossed_runs=0i 0", r.StdoutLines);

        var table = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory");
        Assert.Contains(table.StdoutLines, l => l.Contains("guest address spaces (CR3): 0x1000 480 ns", StringComparison.Ordinal));
    }

    private static (long, long, long, long) Modes(JsonElement m) => (m.GetProperty("kernel_ns").GetInt64(), m.GetProperty("user_ns").GetInt64(),
        m.GetProperty("runs").GetInt64(), m.GetProperty("crossed_runs").GetInt64());

    private static (string, long)[] Spaces(JsonElement vm) =>
        [.. vm.GetProperty("guest_spaces").EnumerateArray().Select(s => (s.GetProperty("cr3").GetString()!, s.GetProperty("guest_ns").GetInt64()))];
}
