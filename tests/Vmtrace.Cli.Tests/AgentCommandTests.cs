namespace Vmtrace.Cli.Tests;

/// <summary><c>vmtrace agent</c>'s configuration errors end it with exit code 2 and the setting's name, live or replay.</summary>
public sealed class AgentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-agentcmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AgentLive_WithTraceInputs_Exit2NamesAgentInputs()
    {
        // LTTng instead of tracefs: no root or tracefs needed to reach the Agent checks. (A failing Agent check once
        // crashed the host as it was built, before the checks could be printed.)
        var r = await CliRun.RunAsync("agent", "--live", Path.Combine(Corpus(), "README.md"), "--Kafka:BootstrapServers=127.0.0.1:1",
            "--Live:Tracefs=false", "--Live:LttngSessionOutput=" + _dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Agent:Inputs must be empty when Agent:Live is set", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentLive_NothingToTrace_Exit2NamesLiveSection()
    {
        var r = await CliRun.RunAsync("agent", "--Agent:Live=true", "--Kafka:BootstrapServers=127.0.0.1:1", "--Live:Tracefs=false");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Live: neither Tracefs nor LttngSessionOutput is set", r.Stderr, StringComparison.Ordinal);
    }

    [Vmtrace.TestSupport.CorpusFact]
    public async Task AgentReplay_RawTscCyclesTrace_Exit1OneLineNamingFileClockAndWhatToDo()
    {
        // hip24-allkvm is x86-tsc without TSC2NSEC (SOURCES.md): its times are cycles, which the pipeline would store as ns.
        // Kafka is unreachable on purpose: the refusal comes before the agent connects or sends anything.
        string trace = Vmtrace.TestSupport.Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat");
        var r = await VmtraceProcess.RunAsync(["agent", trace, "--Kafka:BootstrapServers=127.0.0.1:1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stdout + r.Stderr);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"vmtrace: {trace}: clock 'x86-tsc (raw cycles, no TSC2NSEC)' counts raw TSC cycles", line, StringComparison.Ordinal);
        Assert.Contains("`vmtrace analyze` shows this trace in cycles", line, StringComparison.Ordinal);
        Assert.Contains("trace-cmd record -C tai", line, StringComparison.Ordinal);
        Assert.Contains("vmtrace record", line, StringComparison.Ordinal);
    }

    private static string Corpus() => Vmtrace.TestSupport.Corpus.RepoRoot;
}
