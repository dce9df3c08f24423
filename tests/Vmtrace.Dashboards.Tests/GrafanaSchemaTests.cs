using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// Every dashboard type-checks against Grafana's own published dashboard model: the npm package @grafana/schema
/// (pinned in grafana/schema-check/package.json, installed by scripts/install-deps.sh with npm ci) checked by tsc.
/// </summary>
public sealed class GrafanaSchemaTests
{
    private static string CheckDir => Path.Combine(Corpus.RepoRoot, "grafana", "schema-check");

    [ToolFact("node")]
    public void Dashboards_TypeScriptCheck_PassAgainstGrafanaSchema()
    {
        Assert.True(Directory.Exists(Path.Combine(CheckDir, "node_modules", "@grafana", "schema")),
            "grafana/schema-check/node_modules is missing: run scripts/install-deps.sh (npm ci there)");
        string output = Tools.Run("node", Path.Combine(CheckDir, "check.mjs"));
        Assert.Contains("6 dashboards type-check", output, StringComparison.Ordinal);
    }

    [ToolFact("node")]
    public void SchemaCheck_BrokenDashboard_Fails()
    {
        Assert.True(Directory.Exists(Path.Combine(CheckDir, "node_modules", "@grafana", "schema")),
            "grafana/schema-check/node_modules is missing: run scripts/install-deps.sh (npm ci there)");
        var dir = Directory.CreateTempSubdirectory("vmtrace-schema-");
        try
        {
            string json = File.ReadAllText(Path.Combine(Dashboards.Directory, "vm-detail.json"))
                .Replace("\"graphTooltip\": 1", "\"graphTooltip\": \"shared\"", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir.FullName, "broken.json"), json);
            var ex = Assert.Throws<InvalidOperationException>(() => Tools.Run("node", Path.Combine(CheckDir, "check.mjs"), dir.FullName));
            Assert.Contains("DashboardCursorSync", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
