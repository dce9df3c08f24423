using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// YAML read with YamlDotNet, as JSON: aliases and merge keys (<c>&lt;&lt;: *anchor</c>) resolved, plain scalars
/// typed by the YAML 1.2 core schema (null, bool, int, float, else string; the schema Grafana's and
/// docker-compose's parsers use for these files), quoted scalars and <c>!!str</c> always strings.
/// </summary>
internal static partial class Yaml
{
    public static JsonNode Parse(string path)
    {
        using var reader = File.OpenText(path);
        return Load(reader, path);
    }

    public static JsonNode ParseText(string yaml)
    {
        using var reader = new StringReader(yaml);
        return Load(reader, "YAML text");
    }

    private static JsonNode Load(TextReader reader, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidOperationException($"{source}: line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0)
            throw new InvalidOperationException($"{source} is empty");
        return ToJson(stream.Documents[0].RootNode, source) ?? throw new InvalidOperationException($"{source} is empty");
    }

    private static JsonNode? ToJson(YamlNode node, string source) => node switch
    {
        YamlMappingNode map => ToObject(map, source),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(c => ToJson(c, source))]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"{source}: line {node.Start.Line}: unsupported YAML node {node.NodeType}"),
    };

    private static JsonObject ToObject(YamlMappingNode map, string source)
    {
        var obj = new JsonObject();
        var merged = new List<YamlMappingNode>();
        foreach (var (key, value) in map.Children)
        {
            if (key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain })
            {
                merged.AddRange(value switch
                {
                    YamlMappingNode one => [one],
                    YamlSequenceNode many when many.Children.All(m => m is YamlMappingNode) => many.Children.Cast<YamlMappingNode>(),
                    _ => throw new InvalidOperationException($"{source}: line {value.Start.Line}: a merge key (<<) takes a mapping or a list of mappings"),
                });
                continue;
            }
            string name = key is YamlScalarNode { Value: { } k }
                ? k
                : throw new InvalidOperationException($"{source}: line {key.Start.Line}: a mapping key that is not a scalar");
            if (!obj.TryAdd(name, ToJson(value, source)))
                throw new InvalidOperationException($"{source}: line {key.Start.Line}: duplicate key {name}");
        }
        // Merge keys: the mapping's own keys win, then the merged mappings in their order.
        foreach (var (name, value) in merged.SelectMany(m => ToObject(m, source)))
            if (!obj.ContainsKey(name))
                obj[name] = value?.DeepClone();
        return obj;
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        string text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain || (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value == "tag:yaml.org,2002:str"))
            return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (text is "true" or "True" or "TRUE")
            return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE")
            return JsonValue.Create(false);
        if (DecimalInteger().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
            return Number(integer.ToString(CultureInfo.InvariantCulture));
        if (text.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long hex))
            return Number(hex.ToString(CultureInfo.InvariantCulture));
        if (OctalInteger().IsMatch(text))
            return Number(Convert.ToInt64(text[2..], 8).ToString(CultureInfo.InvariantCulture));
        if (Float().IsMatch(text))
            return Number(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    // A number parsed from its JSON text converts to any numeric type that holds it (GetValue<int>, <long>, <double>).
    private static JsonValue Number(string json) => JsonNode.Parse(json)!.AsValue();

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex DecimalInteger();

    [GeneratedRegex(@"^0o[0-7]+$")]
    private static partial Regex OctalInteger();

    // .inf/.nan are left as strings: JSON has no value for them and these files hold none.
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
