using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Tests;

/// <summary>What the live agent checks of the machine at start: the messages name the key and say what to do.</summary>
public sealed class LiveOptionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmtrace-liveoptions-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Status(int euid, string capEff)
    {
        string path = Path.Combine(_root, $"status-{euid}-{capEff}");
        File.WriteAllText(path, $"Name:\tvmtrace\nUid:\t{euid}\t{euid}\t{euid}\t{euid}\nCapEff:\t{capEff}\n");
        return path;
    }

    [Fact]
    public void HostProblems_NotRootWithoutCapSysAdmin_SaysSo()
    {
        var options = new LiveOptions { TracefsSettings = new TracefsOptions { Root = _root } };
        var problem = Assert.Single(options.HostProblems(Status(1000, "0000000000000000")));
        Assert.StartsWith("Live:Tracefs: not root (euid 1000) and no CAP_SYS_ADMIN", problem, StringComparison.Ordinal);
        // CAP_SYS_ADMIN (bit 21) is enough without root; root is enough without capabilities listed.
        Assert.Empty(options.HostProblems(Status(1000, "0000000000200000")));
        Assert.Empty(options.HostProblems(Status(0, "0000000000000000")));
        // Without the tracefs source nothing of this is needed.
        Assert.Empty(new LiveOptions { Tracefs = false, LttngSessionOutput = _root }.HostProblems(Status(1000, "0")));
    }

    [Fact]
    public void HostProblems_TracefsMissing_SaysSo()
    {
        string missing = Path.Combine(_root, "no-tracefs");
        var options = new LiveOptions { TracefsSettings = new TracefsOptions { Root = missing } };
        var problem = Assert.Single(options.HostProblems(Status(0, "000001ffffffffff")));
        Assert.StartsWith($"Live:Tracefs: tracefs is missing ({missing} does not exist)", problem, StringComparison.Ordinal);
    }
}
