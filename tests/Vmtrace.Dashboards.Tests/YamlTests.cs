using System.Text.Json.Nodes;

namespace Vmtrace.Dashboards.Tests;

/// <summary>What the provisioning and compose checks rely on in <see cref="Yaml"/>: merge keys, scalar types, clear errors.</summary>
public sealed class YamlTests
{
    [Fact]
    public void ParseText_MergeKeysAndScalars_AsTheYamlCoreSchemaTypesThem()
    {
        var doc = Yaml.ParseText("""
            base: &base
              A: "1"
              B: plain
            svc:
              <<: *base
              B: own
              int: 42
              negative: -7
              hex: 0x1f
              float: 2.5
              quoted: '42'
              tagged: !!str 43
              yes_word: yes
              bool: true
              nothing: ~
              empty:
              list: [1, "two", false]
            """);
        var svc = doc["svc"]!.AsObject();
        Assert.Equal("""{"B":"own","int":42,"negative":-7,"hex":31,"float":2.5,"quoted":"42","tagged":"43","yes_word":"yes","bool":true,"nothing":null,"empty":null,"list":[1,"two",false],"A":"1"}""",
            svc.ToJsonString());
        Assert.Equal(42, svc["int"]!.GetValue<long>());
    }

    [Fact]
    public void ParseText_BrokenYaml_NamesTheLine()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Yaml.ParseText("a: 1\nb: [unclosed\n"));
        Assert.StartsWith("YAML text: line ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseText_DuplicateKey_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Yaml.ParseText("a: 1\na: 2\n"));
        Assert.Contains("duplicate key a", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ParseText_Empty_IsRefused() =>
        Assert.Throws<InvalidOperationException>(() => Yaml.ParseText(""));

    [Fact]
    public void Parse_GrafanaDatasource_ApiVersionIsANumber()
    {
        var file = Directory.GetFiles(Path.Combine(Vmtrace.TestSupport.Corpus.RepoRoot, "grafana", "provisioning", "datasources"), "*.yaml").Single();
        Assert.IsAssignableFrom<JsonValue>(Yaml.Parse(file)["apiVersion"]);
        Assert.Equal(1, Yaml.Parse(file)["apiVersion"]!.GetValue<long>());
    }
}
