using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// <c>vmtrace COMMAND …</c>: the root command composed of one System.CommandLine command per class
/// (<see cref="DumpCommand"/>, <see cref="AnalyzeCommand"/>, …). Exit codes: 0 ok, 1 bad input, 2 usage.
/// </summary>
public static class CommandLine
{
    public const string Usage = """
        usage: vmtrace COMMAND [options]      (vmtrace COMMAND --help: that command alone; vmtrace --version)

        commands:
        """ + "\n" + DumpCommand.Usage + "\n" + AnalyzeCommand.Usage + "\n" + TopCommand.Usage + "\n" + KvmStatCommand.Usage + "\n" + InfluxCommand.Usage + "\n" + RecordCommand.Usage + "\n" + AgentCommand.Usage + "\n" + WorkerCommand.Usage + "\n" + DevKafkaCommand.Usage;

    /// <summary>The informational version (with the git commit it was built from, after '+').</summary>
    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    /// <summary>The commands under the root, each built by its class. A new command is one more line here.</summary>
    private static readonly (string Name, Func<Command> Build)[] s_commands =
    [
        ("dump", DumpCommand.Build),
        ("analyze", AnalyzeCommand.Build),
        ("top", TopCommand.Build),
        ("kvm-stat", KvmStatCommand.Build),
        ("influx", InfluxCommand.Build),
        ("record", RecordCommand.Build),
        ("agent", AgentCommand.Build),
        ("worker", WorkerCommand.Build),
        ("dev-kafka", DevKafkaCommand.Build),
        ("help", HelpWordCommand),
        ("version", VersionWordCommand),
    ];

    /// <summary>Every command of vmtrace under one root, with vmtrace's help, version and one-line parse errors.</summary>
    internal static RootCommand BuildRoot() => BuildRoot(_ => true);

    /// <summary>The root with the commands <paramref name="include"/> names (start-up builds just the command it runs).</summary>
    private static RootCommand BuildRoot(Func<string, bool> include)
    {
        var root = new RootCommand(Usage);
        foreach (var (name, build) in s_commands)
        {
            if (include(name))
                root.Subcommands.Add(build());
        }
        foreach (var option in root.Options)
        {
            if (option is HelpOption help)
            {
                help.Description = "this help";
                help.Action = new CommandHelp.Action();
            }
            else if (option is VersionOption version)
                version.Action = new VersionAction();
        }
        // "vmtrace" alone: the list of commands, as a usage error (nothing was asked).
        root.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Usage);
            return 2;
        });
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // Only the command named first is built (start-up time: what is not built is not compiled); completions
        // ("[suggest:N]") and "help COMMAND" need them all. The root's own help and --version need none.
        string first = args.Length > 0 ? args[0] : "";
        var root = first.StartsWith('[') || first == "help" ? BuildRoot() : BuildRoot(name => name == first);
        // A trace path may start with '@': no response files.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // The commands' own errors map to exit codes below; record, agent and worker handle SIGINT/SIGTERM themselves.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        if (SwitchGivenAValue(parseResult, args) is { } flag)
            return CommandHelp.UsageError(stderr, parseResult.CommandResult.Command, $"{flag} takes no value");
        if (parseResult.Action is ParseErrorAction)
            return CommandHelp.UsageError(stderr, parseResult.CommandResult.Command, CommandHelp.ErrorMessage(parseResult));
        try
        {
            // A synchronous command (dump, analyze, help, version) runs on this thread, as a plain call.
            return parseResult.Action is SynchronousCommandLineAction
                ? parseResult.Invoke(invocation)
                : await parseResult.InvokeAsync(invocation).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            return CommandHelp.UsageError(stderr, parseResult.CommandResult.Command, ex.Message);
        }
        catch (InconsistentInputsException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Vmtrace.Agent.RawCyclesInputException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (ConfigurationProblemsException ex)
        {
            foreach (string problem in ex.Problems)
                await stderr.WriteLineAsync($"vmtrace: {problem}").ConfigureAwait(false);
            return 2;
        }
        catch (TraceFormatException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>
    /// A switch written "--stats=yes": System.CommandLine would take "yes" as a trace. ("--stats=true" and "=false" are
    /// the switch's own values.)
    /// </summary>
    private static string? SwitchGivenAValue(ParseResult parseResult, string[] args)
    {
        var command = parseResult.CommandResult.Command;
        foreach (string arg in args)
        {
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (!arg.StartsWith("--", StringComparison.Ordinal) || eq < 0 || arg[(eq + 1)..] is "true" or "false")
                continue;
            string name = arg[..eq];
            if (command.Options.Any(o => o.ValueType == typeof(bool) && (o.Name == name || o.Aliases.Contains(name))))
                return name;
        }
        return null;
    }

    /// <summary><c>vmtrace help [COMMAND…]</c>: the same text as <c>--help</c>.</summary>
    private static Command HelpWordCommand()
    {
        var names = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "the command to describe" };
        var help = new Command("help", "the usage of vmtrace or of one command") { Hidden = true };
        help.Arguments.Add(names);
        help.SetAction((parseResult, cancellation) =>
        {
            string[] asked = parseResult.GetValue(names) ?? [];
            var root = BuildRoot();
            Command command = root;
            foreach (string name in asked)
            {
                command = command.Subcommands.FirstOrDefault(c => !c.Hidden && c.Name == name)
                    ?? throw new UsageException($"unknown command '{string.Join(' ', asked)}'");
            }
            return root.Parse([.. asked, "--help"], parseResult.Configuration)
                .InvokeAsync(parseResult.InvocationConfiguration, cancellation);
        });
        return help;
    }

    /// <summary><c>vmtrace version</c>: the same line as <c>--version</c>.</summary>
    private static Command VersionWordCommand()
    {
        var version = new Command("version", "the version of vmtrace") { Hidden = true };
        version.SetAction(parseResult => new VersionAction().Invoke(parseResult));
        return version;
    }

    /// <summary>"vmtrace VERSION+COMMIT", one line (the default prints the bare version).</summary>
    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine("vmtrace " + Version);
            return 0;
        }
    }
}

/// <summary>A command line that does not parse.</summary>
public sealed class UsageException(string message) : Exception(message);
