using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// docs/configuration.md against the options classes the services bind: every setting (found by reflection, as the
/// configuration binder and <see cref="ConfigurationCheck"/> see them) has its row with its type and its default, and
/// the document names no setting that does not exist. A setting added, renamed or given another default fails here
/// until the document says so.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    private static string Document => File.ReadAllText(Path.Combine(Vmtrace.TestSupport.Corpus.RepoRoot, "docs/configuration.md"));

    /// <summary>"| `Section:Key` | type | `default` |" for every setting.</summary>
    internal static List<(string Path, string Row)> ExpectedRows()
    {
        var rows = new List<(string, string)>();
        foreach (var (section, type) in ConfigurationCheck.Sections)
            Add(rows, section, type, Activator.CreateInstance(type)!);
        return rows;
    }

    private static void Add(List<(string, string)> rows, string prefix, Type type, object instance)
    {
        foreach (var p in ConfigurationCheck.Settings(type))
        {
            string path = prefix + ":" + p.Name;
            object? value = p.GetValue(instance);
            bool nested = !ConfigurationCheck.IsScalar(p.PropertyType) && !typeof(IEnumerable).IsAssignableFrom(p.PropertyType);
            if (nested)
                Add(rows, path, p.PropertyType, value!);
            else
                rows.Add((path, $"| `{path}` | {TypeName(p.PropertyType)} | {DefaultText(value)} |"));
        }
    }

    private static string TypeName(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(TimeSpan)) return "duration";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(int) || t == typeof(long)) return "integer";
        if (t == typeof(double)) return "number";
        if (t == typeof(Uri)) return "URL";
        if (t == typeof(string)) return "string";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)) return "list";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>)) return "map";
        return t.Name;
    }

    private static string DefaultText(object? value) => value switch
    {
        null => "(none)",
        string { Length: 0 } => "(empty)",
        string s => $"`{s}`",
        TimeSpan t => $"`{t.ToString("c", CultureInfo.InvariantCulture)}`",
        bool b => b ? "`true`" : "`false`",
        IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
        IDictionary { Count: 0 } => "(empty)",
        IList { Count: 0 } => "(empty)",
        _ => $"`{value}`",
    };

    [Fact]
    public void ConfigurationDoc_EverySettingHasItsRowWithTypeAndDefault()
    {
        string doc = Document;
        var missing = ExpectedRows().Where(r => !doc.Contains(r.Row + " ", StringComparison.Ordinal)).Select(r => r.Row).ToList();
        Assert.True(missing.Count == 0, "docs/configuration.md lacks (or has another type or default for):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void ConfigurationDoc_NamesNoSettingThatDoesNotExist()
    {
        var known = ExpectedRows().Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
        var documented = Row().Matches(Document).Select(m => m.Groups["path"].Value).ToList();
        Assert.NotEmpty(documented);
        var unknown = documented.Where(p => !known.Contains(p)).ToList();
        Assert.True(unknown.Count == 0, "docs/configuration.md names settings that do not exist: " + string.Join(", ", unknown));
        Assert.Equal(documented.Count, documented.Distinct(StringComparer.Ordinal).Count());
    }

    [GeneratedRegex(@"^\| `(?<path>[A-Za-z]+(:[A-Za-z]+)+)` \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
