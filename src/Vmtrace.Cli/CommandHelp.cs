using System.CommandLine;
using System.CommandLine.Invocation;

namespace Vmtrace.Cli;

/// <summary>
/// vmtrace's help and usage errors. <c>--help</c> prints "usage: vmtrace", the command's usage text (its
/// <see cref="Symbol.Description"/>), then the arguments and options System.CommandLine knows with their aliases;
/// a usage error is one line naming the mistake and one pointing to <c>--help</c>.
/// </summary>
internal static class CommandHelp
{
    /// <summary>The settings paragraph of the service commands' help.</summary>
    public const string ServiceSettings = """

          settings (every one in docs/configuration.md), each source overriding the ones before it:
              defaults < appsettings.json (working directory) < --config FILE < environment (VMTRACE__SECTION__KEY,
              KAFKA_BOOTSTRAP_SERVERS) < --Section:Key=value. An unknown key or a value of the wrong type: exit 2.
        """;

    /// <summary>
    /// Help for <paramref name="command"/>: "usage: vmtrace" and its usage text, then its subcommands, arguments and
    /// options (with their aliases) as System.CommandLine knows them.
    /// </summary>
    public static void Write(Command command, TextWriter output)
    {
        if (command is RootCommand)
        {
            output.WriteLine(CommandLine.Usage);
            output.WriteLine();
            output.WriteLine("  completions: vmtrace \"[suggest:POSITION]\" \"COMMAND LINE\" lists what may follow at POSITION (docs/cli.md)");
            return;
        }
        output.WriteLine("usage: vmtrace");
        output.WriteLine(command is UsageCommand u ? u.Usage : command.Description);
        var rows = new List<(string Left, string Right)>();
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
            rows.Add((sub.Name, $"the command {Path(sub)} (vmtrace {Path(sub)} --help)"));
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            rows.Add(($"<{argument.Name}>{(argument.Arity.MaximumNumberOfValues > 1 ? "…" : "")}", argument.Description ?? ""));
        foreach (var option in AllOptions(command).Where(o => !o.Hidden))
        {
            string names = string.Join(", ", option.Aliases.Order(StringComparer.Ordinal).Append(option.Name));
            bool takesValue = option.Arity.MaximumNumberOfValues > 0 && option.ValueType != typeof(bool);
            rows.Add((takesValue ? $"{names} {option.HelpName ?? "VALUE"}" : names, option.Description ?? ""));
        }
        if (command.TreatUnmatchedTokensAsErrors is false)
            rows.Add(("--Section:Key=value", "a setting (docs/configuration.md), after the environment"));
        int width = rows.Max(r => r.Left.Length);
        output.WriteLine();
        output.WriteLine(command.Subcommands.Any(c => !c.Hidden) ? "  commands and options:" : "  arguments and options:");
        foreach (var (left, right) in rows)
            output.WriteLine($"      {left.PadRight(width)}  {right}".TrimEnd());
    }

    /// <summary>The command's options and the recursive ones of its parents (--help).</summary>
    private static IEnumerable<Option> AllOptions(Command command)
    {
        var options = new List<Option>(command.Options);
        for (var s = command.Parents.FirstOrDefault(); s is Command parent; s = parent.Parents.FirstOrDefault())
            options.AddRange(parent.Options.Where(o => o.Recursive));
        return options;
    }

    /// <summary>One line naming the mistake, one with the command's synopsis and where its options are explained; exit code 2.</summary>
    public static int UsageError(TextWriter stderr, Command command, string message)
    {
        string path = Path(command);
        if (command is UsageCommand { OneLineUsageErrors: true })
        {
            stderr.WriteLine($"vmtrace {path}: {message} (vmtrace {path} --help)");
            return 2;
        }
        stderr.WriteLine($"vmtrace: {message}");
        stderr.WriteLine(command is RootCommand
            ? "usage: vmtrace COMMAND [options]   (vmtrace --help: the commands)"
            : $"usage: {Synopsis(command)}   (vmtrace {path} --help: every option)");
        return 2;
    }

    /// <summary>The first parse error in vmtrace's words: the option, argument or command it is about, in one line.</summary>
    public static string ErrorMessage(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        if (parseResult.UnmatchedTokens.Count > 0)
        {
            string token = parseResult.UnmatchedTokens[0];
            if (token.StartsWith('-'))
                return $"unknown option '{token}'";
            return command is RootCommand || command.Subcommands.Any(c => !c.Hidden) ? $"unknown command '{(Path(command) + " " + token).TrimStart()}'" : $"unexpected argument '{token}'";
        }
        var error = parseResult.Errors[0];
        if (error.SymbolResult is System.CommandLine.Parsing.OptionResult { Tokens.Count: 0, IdentifierToken: { } option })
            return $"{option.Value} needs a value";
        if (error.SymbolResult is System.CommandLine.Parsing.CommandResult && command.Subcommands.Any(c => !c.Hidden) && command.Action is null)
            return $"{Path(command)} needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        return error.Message;
    }

    /// <summary>"analyze influx init", the words that name a command under the root.</summary>
    public static string Path(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c and not RootCommand; s = s.Parents.FirstOrDefault())
            names.Insert(0, c.Name);
        return string.Join(' ', names);
    }

    /// <summary>"vmtrace dump &lt;trace&gt; [options]".</summary>
    private static string Synopsis(Command command)
    {
        var parts = new List<string> { "vmtrace", Path(command) };
        if (command.Subcommands.Any(c => !c.Hidden))
            parts.Add("COMMAND");
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            parts.Add($"<{argument.HelpName ?? argument.Name}{(argument.Arity.MaximumNumberOfValues > 1 ? "…" : "")}>");
        parts.Add("[options]");
        return string.Join(' ', parts);
    }

    /// <summary>The help option's action: <see cref="Write"/> for the command it follows.</summary>
    public sealed class Action : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            Write(parseResult.CommandResult.Command, parseResult.InvocationConfiguration.Output);
            return 0;
        }
    }
}

/// <summary>
/// A vmtrace command: its <see cref="Usage"/> is the hand-written synopsis and explanation that heads its help (and, for
/// the commands under the root, the root's help); the generated list of arguments and options follows it.
/// </summary>
internal sealed class UsageCommand : Command
{
    public UsageCommand(string name, string usage, bool oneLineUsageErrors = false)
        : base(name)
    {
        Usage = usage;
        OneLineUsageErrors = oneLineUsageErrors;
    }

    public string Usage { get; }

    /// <summary>
    /// Usage errors in one line, "vmtrace NAME: mistake (vmtrace NAME --help)": for a command an operator runs from
    /// scripts over ssh (record), whose callers match that single line.
    /// </summary>
    public bool OneLineUsageErrors { get; }
}
