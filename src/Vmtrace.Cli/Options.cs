namespace Vmtrace.Cli;

/// <summary>A tiny parser for "--flag", "--key value" and positional arguments.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _named = new(StringComparer.Ordinal);

    public Options(string[] args, IReadOnlySet<string> flags, IReadOnlySet<string> valued)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                string key = a;
                string? value = null;
                int eq = a.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    key = a[..eq];
                    value = a[(eq + 1)..];
                }
                if (flags.Contains(key))
                {
                    if (value is not null)
                        throw new UsageException($"{key} takes no value");
                    _named[key] = null;
                }
                else if (valued.Contains(key))
                {
                    if (value is null)
                    {
                        if (i + 1 >= args.Length)
                            throw new UsageException($"{key} needs a value");
                        value = args[++i];
                    }
                    _named[key] = value;
                }
                else
                {
                    throw new UsageException($"unknown option '{key}'");
                }
            }
            else
            {
                Positional.Add(a);
            }
        }
    }

    public List<string> Positional { get; } = [];

    public bool Flag(string name) => _named.ContainsKey(name);

    public string? Value(string name) => _named.TryGetValue(name, out var v) ? v : null;

    public long? Long(string name)
    {
        var v = Value(name);
        if (v is null)
            return null;
        return long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new UsageException($"{name} expects a whole number, got '{v}'");
    }
}
