using System.Text.Json.Nodes;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// YAML read by PyYAML's safe loader (python3-yaml, which Debian's docker-compose package depends on, so the
/// same install brings it), as JSON.
/// </summary>
internal static class Yaml
{
    public static JsonNode Parse(string path) =>
        JsonNode.Parse(Tools.Run("python3", "-c", "import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", path))
        ?? throw new InvalidOperationException($"{path} is empty");

    public static JsonNode ParseText(string yaml)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, yaml);
            return Parse(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
