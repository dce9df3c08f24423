using System.CommandLine;

namespace Vmtrace.Cli;

/// <summary>
/// The command line of a service command (<c>agent</c>, <c>worker</c>): <c>--config FILE</c> and any number of
/// <c>--Section:Key=value</c> settings, which System.CommandLine leaves unmatched and <see cref="ServiceHost.Builder"/>
/// binds in its documented order.
/// </summary>
internal sealed class ServiceArguments
{
    public Option<string> Config { get; } = OptionValues.Text("--config", "FILE", "a JSON settings file (after appsettings.json, before the environment)");

    /// <summary>Adds <see cref="Config"/> to <paramref name="command"/> and lets its settings through.</summary>
    public Command AddTo(Command command)
    {
        command.Options.Add(Config);
        command.TreatUnmatchedTokensAsErrors = false;
        return command;
    }

    /// <summary>
    /// The arguments <see cref="ServiceHost.Builder"/> reads: <paramref name="positional"/> (a setting given before the
    /// traces lands there too, it is told apart by its "--"), the unmatched settings and the config file.
    /// </summary>
    public string[] Of(ParseResult parseResult, IEnumerable<string> positional)
    {
        var args = new List<string>(positional);
        args.AddRange(parseResult.UnmatchedTokens);
        if (parseResult.GetValue(Config) is { } file)
            args.AddRange(["--config", file]);
        return [.. args];
    }
}
