using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The service commands' settings as an operator meets them, through a real <c>vmtrace</c> child process: a wrong
/// value, an unknown key or a damaged file is one line naming it (exit 2, no stack trace); --help and --version
/// answer; sources override each other in the documented order.
/// </summary>
public sealed partial class ServiceConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Trace => Path.Combine(Vmtrace.TestSupport.Corpus.RepoRoot, "samples/queued-sleep/trace.dat.xz");

    public static TheoryData<string[], string[]> BadValues => new()
    {
        { ["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Worker:Window=5s"], ["Worker:Window", "'5s'", "duration"] },
        { ["agent", "TRACE", "--Kafka:BootstrapServers=127.0.0.1:1", "--Agent:Speed=fast"], ["Agent:Speed", "'fast'", "number"] },
        { ["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Influx:MaxRetries=many"], ["Influx:MaxRetries", "'many'", "whole number"] },
        { ["agent", "TRACE", "--Kafka:BootstrapServers=127.0.0.1:1", "--Agent:Replay:ShiftToNow=yes"], ["Agent:Replay:ShiftToNow", "'yes'", "true or false"] },
        { ["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Worker:Windw=00:00:05"], ["unknown setting Worker:Windw", "Window"] },
        { ["agent", "TRACE", "--Kafka:BootstrapServers=127.0.0.1:1", "--Agent:Sped=1"], ["unknown setting Agent:Sped", "Speed"] },
        { ["worker", "--Kafka:BootstrapServer=127.0.0.1:1"], ["unknown setting Kafka:BootstrapServer", "BootstrapServers"] },
        { ["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Influx:Databse=x"], ["unknown setting Influx:Databse", "Database"] },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task ServiceCommand_BadSetting_Exit2OneLineNamingSettingValueAndWhatIsAllowed(string[] args, string[] mentions)
    {
        var r = await VmtraceProcess.RunAsync(args.Select(a => a == "TRACE" ? Trace : a));

        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stderr);
        string line = Assert.Single(r.StderrLines);
        foreach (string m in mentions)
            Assert.Contains(m, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_UnknownKeyFromEnvironment_Exit2OneLine()
    {
        var r = await VmtraceProcess.RunAsync(["worker", "--Kafka:BootstrapServers=127.0.0.1:1"], new Dictionary<string, string> { ["VMTRACE__WORKER__GROUPIDD"] = "g" });

        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stderr);
        Assert.Contains("unknown setting Worker:GROUPIDD", Assert.Single(r.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_BrokenJsonConfig_Exit2OneLineNamingTheFile()
    {
        string file = Path.Combine(_dir, "broken.json");
        File.WriteAllText(file, "{ \"Worker\": { \"Window\": \"00:00:01\", } ");

        var r = await VmtraceProcess.RunAsync(["worker", "--config", file]);

        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stderr);
        string line = Assert.Single(r.StderrLines);
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_BrokenAppsettingsInWorkingDirectory_Exit2OneLine()
    {
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), "{ not json");

        var r = await VmtraceProcess.RunAsync(["worker"], workingDirectory: _dir);

        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stderr);
        Assert.Contains("appsettings.json: not valid JSON", Assert.Single(r.StderrLines), StringComparison.Ordinal);
    }

    public static TheoryData<string[]> HelpRequests => new()
    {
        { ["--help"] }, { ["help", "worker"] }, { ["agent", "--help"] }, { ["agent", "--live", "--help"] }, { ["worker", "--help"] }, { ["worker", "-h"] },
        { ["analyze", "--help"] }, { ["dump", "--help"] }, { ["influx", "--help"] }, { ["influx", "init", "--help"] }, { ["dev-kafka", "--help"] },
    };

    [Theory]
    [MemberData(nameof(HelpRequests))]
    public async Task Help_EveryCommandAndSubcommand_UsageOnStdoutExit0NoStackTrace(string[] args)
    {
        var r = await VmtraceProcess.RunAsync(args);

        Assert.Equal(0, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stdout + r.Stderr);
        Assert.Equal("", r.Stderr);
        Assert.StartsWith("usage: vmtrace", r.Stdout, StringComparison.Ordinal);
        string command = args[0] is "--help" or "help" ? (args.Length > 1 ? args[1] : "COMMAND") : args[0];
        Assert.Contains(command, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsInformationalVersionWithGitCommit()
    {
        var r = await VmtraceProcess.RunAsync(["--version"]);

        Assert.Equal(0, r.ExitCode);
        Assert.Matches(VersionLine(), r.Stdout.Trim());
    }

    [GeneratedRegex(@"^vmtrace \d+\.\d+\.\d+[^+\s]*\+[0-9a-f]{40}$")]
    private static partial Regex VersionLine();

    /// <summary>
    /// defaults &lt; file &lt; environment &lt; command line, seen through a setting the worker echoes when it refuses it:
    /// each source gives Worker:Window another invalid value; the one reported is the source that must win.
    /// </summary>
    [Fact]
    public async Task Settings_EachSourceOverridesTheOnesBefore_DefaultsFileEnvironmentCommandLine()
    {
        string file = Path.Combine(_dir, "worker.json");
        File.WriteAllText(file, """{ "Worker": { "Window": "-00:00:01" }, "Kafka": { "BootstrapServers": "127.0.0.1:1" } }""");
        string[] withFile = ["worker", "--config", file];
        var env = new Dictionary<string, string> { ["VMTRACE__WORKER__WINDOW"] = "-00:00:02" };

        var all = await VmtraceProcess.RunAsync([.. withFile, "--Worker:Window=-00:00:03"], env);
        var noArgument = await VmtraceProcess.RunAsync(withFile, env);
        var fileOnly = await VmtraceProcess.RunAsync(withFile);
        var defaults = await VmtraceProcess.RunAsync(["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Worker:GroupId="]);

        Assert.Contains("Worker:Window must be a positive whole number of milliseconds, not -00:00:03", all.Stderr, StringComparison.Ordinal);
        Assert.Contains("not -00:00:02", noArgument.Stderr, StringComparison.Ordinal);
        Assert.Contains("not -00:00:01", fileOnly.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Worker:Window", defaults.Stderr, StringComparison.Ordinal);
        Assert.Contains("Worker:GroupId is empty", defaults.Stderr, StringComparison.Ordinal);
        Assert.All(new[] { all, noArgument, fileOnly, defaults }, r => Assert.Equal(2, r.ExitCode));
        Assert.All(new[] { all, noArgument, fileOnly, defaults }, r => Assert.False(r.HasStackTrace, r.Stderr));
        Assert.Equal(["vmtrace: invalid configuration: Worker:Window must be a positive whole number of milliseconds, not -00:00:03"], all.StderrLines);
    }

    /// <summary>
    /// KAFKA_BOOTSTRAP_SERVERS is an environment setting: an explicit --Kafka:BootstrapServers beats it. The variable points
    /// at a closed port, the argument at a real Kafka (librdkafka's mock cluster in a `vmtrace dev-kafka` process): the
    /// replay must be delivered there and the agent end by itself.
    /// </summary>
    [Fact]
    public async Task Agent_CommandLineBootstrapServers_BeatsKafkaBootstrapServersVariable()
    {
        using var kafka = Process.Start(VmtraceProcess.StartInfo(["dev-kafka", "--partitions", "1"]))!;
        try
        {
            string bootstrap = (await kafka.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)))!.Trim();
            Assert.Matches(@"^127\.0\.0\.1:\d+", bootstrap);

            var r = await VmtraceProcess.RunAsync(["agent", Trace, "--Kafka:BootstrapServers=" + bootstrap, "--Agent:HostId=precedence"],
                new Dictionary<string, string> { ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1" }, timeoutSeconds: 90);

            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        }
        finally
        {
            kafka.Kill(entireProcessTree: true);
            await kafka.WaitForExitAsync();
        }
    }
}
