using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Vmtrace.Cli;

/// <summary>
/// The kinds of option vmtrace's commands share, each parsing its value with a one-line error that names the option
/// and the value ("--limit expects a whole number, got 'ten'").
/// </summary>
internal static class OptionValues
{
    /// <summary>A switch: present or not (<c>--name=true|false</c> is accepted too, anything else is an error).</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description };

    public static Option<string> Text(string name, string helpName, string description, params string[] aliases) =>
        new(name, aliases) { Description = description, HelpName = helpName };

    /// <summary>A text option whose values are listed for completion and checked with the option's own message.</summary>
    public static Option<string> OneOf(string name, string[] values, string description, params string[] aliases)
    {
        var option = new Option<string>(name, aliases) { Description = description, HelpName = string.Join('|', values) };
        option.CompletionSources.Add(values);
        return option;
    }

    public static Option<long?> WholeNumber(string name, string description, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = "N",
            CustomParser = r => Parse(r, name, text => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n)
                ? n : throw new UsageException($"{name} expects a whole number, got '{text}'")),
        };

    /// <summary>A duration in the units of <see cref="TimeArgument.ParseDuration"/>, in ns.</summary>
    public static Option<long?> Duration(string name, string description, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = "DURATION",
            CustomParser = r => Parse(r, name, text => TimeArgument.ParseDuration(name, text)),
        };

    /// <summary>A range bound as <see cref="TimeArgument.ParseBound"/> reads it.</summary>
    public static Option<(long Ns, bool Relative)?> Bound(string name, string description, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = "T",
            CustomParser = r => Parse<(long, bool)?>(r, name, text => TimeArgument.ParseBound(name, text)),
        };

    /// <summary>
    /// The values of a command's trace arguments. System.CommandLine gives an argument of any number of values every
    /// token that is no known option, so an unknown "--name" is refused here as the option it was meant to be.
    /// </summary>
    public static string[] Positional(ParseResult parseResult, Argument<string[]> argument)
    {
        string[] values = parseResult.GetValue(argument) ?? [];
        foreach (string value in values)
        {
            if (!value.StartsWith("--", StringComparison.Ordinal))
                continue;
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            string name = eq > 0 ? value[..eq] : value;
            bool known = parseResult.CommandResult.Command.Options.Any(o => o.Name == name || o.Aliases.Contains(name));
            throw new UsageException(known ? $"{name} takes no value" : $"unknown option '{name}'");
        }
        return values;
    }

    /// <summary>Parses the option's one value; a <see cref="UsageException"/> becomes the parse error of the option.</summary>
    public static T? Parse<T>(ArgumentResult result, string name, Func<string, T> parse)
    {
        if (result.Tokens.Count == 0)
        {
            result.AddError($"{name} needs a value");
            return default;
        }
        try
        {
            return parse(result.Tokens[0].Value);
        }
        catch (UsageException ex)
        {
            result.AddError(ex.Message);
            return default;
        }
    }
}
