namespace Vmtrace.Analysis.Tests;

/// <summary>A vmmap.json VM without a name takes qemu's -name from its command line, in both of qemu's forms.</summary>
public class VmMapJsonNameTests
{
    /// <summary>The command lines of samples/plain-trace-cmd/2vm (cmdline-*.txt), shortened after -name.</summary>
    [Theory]
    [InlineData("qemu-system-x86_64 -name demo3 -machine pc -smp 2", "demo3")]
    [InlineData("qemu-system-x86_64 -name guest=demo4,debug-threads=off -machine pc -smp 2", "demo4")]
    [InlineData("qemu-system-x86_64 -name debug-threads=on,guest=web -smp 2", "web")]
    [InlineData("qemu-system-x86_64 -name debug-threads=on -smp 2", null)]
    [InlineData("qemu-system-x86_64 -machine pc -smp 2", null)]
    public void NameFromCommandLine_BothForms(string cmdline, string? expected) =>
        Assert.Equal(expected, VmMapJson.NameFromCommandLine(cmdline));

    [Fact]
    public void Parse_VmWithoutName_NamedFromItsCommandLine()
    {
        var vms = VmMapJson.Parse("""
            {"vms": [
              {"pid": 12840, "cmdline": "qemu-system-x86_64 -name demo3 -smp 2"},
              {"pid": 12842, "cmdline": "qemu-system-x86_64 -name guest=demo4,debug-threads=off -smp 2"},
              {"pid": 12900, "name": "given", "cmdline": "qemu-system-x86_64 -name other"},
              {"pid": 12950}
            ]}
            """);
        Assert.Equal(["demo3", "demo4", "given", "qemu-12950"], vms.Select(v => v.Name));
        Assert.All(vms, v => Assert.Equal(VmIdentity.Vmmap, v.Identity));
    }
}
