using System.CommandLine;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The command line as System.CommandLine parses it: every option of every command in its --help, the old option names
/// beside the consistent ones, one-line parse errors naming the option, completions, and the service settings.
/// </summary>
public sealed class CommandLineParsingTests
{
    /// <summary>Every visible command under the root, by its words ("influx init").</summary>
    private static IEnumerable<(string[] Path, Command Command)> Commands(Command parent, string[] path)
    {
        foreach (var command in parent.Subcommands.Where(c => !c.Hidden))
        {
            string[] words = [.. path, command.Name];
            yield return (words, command);
            foreach (var sub in Commands(command, words))
                yield return sub;
        }
    }

    public static TheoryData<string> CommandPaths() =>
        [.. Commands(CommandLine.BuildRoot(), []).Select(c => string.Join(' ', c.Path))];

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public async Task Help_ListsEveryOptionOfTheCommandWithEachAlias(string path)
    {
        var command = Commands(CommandLine.BuildRoot(), []).Single(c => string.Join(' ', c.Path) == path).Command;

        var r = await CliRun.RunAsync([.. path.Split(' '), "--help"]);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.StartsWith("usage: vmtrace", r.Stdout, StringComparison.Ordinal);
        // The listing's first column: "--db, --database NAME".
        var names = r.StdoutLines.SkipWhile(l => !l.EndsWith(" options:", StringComparison.Ordinal)).Skip(1)
            .Select(l => l.Trim().Split("  ")[0].Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).ToList();
        foreach (var option in command.Options)
        {
            var row = Assert.Single(names, n => n.Contains(option.Name));
            foreach (string alias in option.Aliases)
                Assert.Contains(alias, row);
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{path} {option.Name} has no description");
        }
    }

    [Fact]
    public void Root_HasTheCommandsOfVmtrace()
    {
        var names = Commands(CommandLine.BuildRoot(), []).Select(c => string.Join(' ', c.Path)).ToList();
        foreach (string expected in new[] { "dump", "analyze", "influx", "influx init", "record", "agent", "worker", "dev-kafka" })
            Assert.Contains(expected, names);
    }

    [Theory]
    [InlineData("--db", "--database")]
    [InlineData("--user", "--username")]
    public void InfluxInit_OldOptionName_SetsTheSameValueAsTheConsistentOne(string old, string consistent)
    {
        var root = CommandLine.BuildRoot();

        var byOld = root.Parse(["influx", "init", old, "value-1"]);
        var byNew = root.Parse(["influx", "init", consistent, "value-1"]);

        Assert.Empty(byOld.Errors);
        Assert.Empty(byNew.Errors);
        Assert.Equal("value-1", byOld.GetValue<string>(consistent));
        Assert.Equal("value-1", byNew.GetValue<string>(consistent));
    }

    [Theory]
    [InlineData("--bogus", "dump", "x.log", "--bogus")]
    [InlineData("--limit", "dump", "x.log", "--limit")]
    [InlineData("--limit", "dump", "x.log", "--limit", "ten")]
    [InlineData("--stats", "dump", "x.log", "--stats=yes")]
    [InlineData("--window", "analyze", "x.dat", "--window", "fast")]
    [InlineData("--to", "analyze", "x.dat", "--to", "tomorrow")]
    [InlineData("--cpus", "analyze", "x.dat", "--cpus", "-1")]
    [InlineData("--partitions", "dev-kafka", "--partitions", "0")]
    [InlineData("--brokers", "dev-kafka", "--brokers", "x")]
    [InlineData("--rollup-1h", "influx", "init", "--rollup-1h", "forever")]
    [InlineData("--config", "worker", "--config")]
    [InlineData("'frobnicate'", "frobnicate")]
    [InlineData("'influx frobnicate'", "influx", "frobnicate")]
    [InlineData("influx needs a command: init", "influx")]
    public async Task ParseError_OneLineNamingTheOptionThenTheUsagePointingToHelp_Exit2(string named, params string[] args)
    {
        var r = await CliRun.RunAsync(args);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("vmtrace: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        string command = args[0] is "influx" && args.Length > 1 && args[1] == "init" ? "influx init" : args[0] is "frobnicate" ? "COMMAND" : args[0];
        Assert.StartsWith($"usage: vmtrace {command}", lines[1], StringComparison.Ordinal);
        Assert.Contains("--help", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--buffer-kb", "record", "-o", "never-made", "--buffer-kb", "lots")]
    [InlineData("--duration", "record", "-o", "never-made", "--duration", "soon")]
    [InlineData("unknown option '--bogus'", "record", "-o", "never-made", "--bogus")]
    [InlineData("unexpected argument 'extra'", "record", "-o", "never-made", "extra")]
    public async Task ParseError_Record_OneLineNamingTheMistakeAndHelp_Exit2(string named, params string[] args)
    {
        var r = await CliRun.RunAsync(args);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("vmtrace record: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.EndsWith("(vmtrace record --help)", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists("never-made"));
    }

    [Fact]
    public async Task ParseError_InTheVmtraceProcess_NoStackTrace()
    {
        var r = await VmtraceProcess.RunAsync(["analyze", "x.dat", "--window", "fast"]);

        Assert.Equal(2, r.ExitCode);
        Assert.False(r.HasStackTrace, r.Stderr);
        Assert.Equal(2, r.StderrLines.Length);
        Assert.Equal("vmtrace: --window expects a duration like 1s, 500ms, 250us or 100ns, got 'fast'", r.StderrLines[0]);
    }

    [Fact]
    public async Task Help_UnknownCommand_Exit2()
    {
        var r = await CliRun.RunAsync("help", "frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("ana", 3, new[] { "analyze" })]
    [InlineData("analyze --format ", 17, new[] { "csv", "json", "line-protocol", "table" })]
    [InlineData("record --writer trace", 20, new[] { "trace-cmd", "tracefs" })]
    [InlineData("influx init --ro", 16, new[] { "--rollup-1h", "--rollup-1m" })]
    public async Task SuggestDirective_ListsWhatMayFollowAtThePosition(string line, int position, string[] expected)
    {
        var r = await CliRun.RunAsync($"[suggest:{position}]", line);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(expected, r.StdoutLines);
    }

    [Fact]
    public async Task Dump_PathStartingWithAt_IsATraceNotAResponseFile()
    {
        string missing = "@" + Path.Combine(Path.GetTempPath(), "no-such-vmtrace-response-file");
        var r = await CliRun.RunAsync("dump", missing);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(missing, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_SettingsBeforeAndAfterTheTrace_AreBothChecked()
    {
        string trace = Path.Combine(Vmtrace.TestSupport.Corpus.RepoRoot, "samples/queued-sleep/trace.dat.xz");

        var before = await CliRun.RunAsync("agent", "--Agent:Sped=1", trace, "--Kafka:BootstrapServers=127.0.0.1:1");
        var after = await CliRun.RunAsync("agent", trace, "--Kafka:BootstrapServers=127.0.0.1:1", "--Agent:Speed=fast");

        Assert.Equal(2, before.ExitCode);
        Assert.Contains("unknown setting Agent:Sped", before.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, after.ExitCode);
        Assert.Contains("Agent:Speed = 'fast'", after.Stderr, StringComparison.Ordinal);
    }
}
