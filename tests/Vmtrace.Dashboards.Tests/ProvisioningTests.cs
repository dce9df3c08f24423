using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>grafana/provisioning: the YAML parses and has the keys Grafana's provisioning reads.</summary>
public sealed class ProvisioningTests
{
    private static string Provisioning => Path.Combine(Corpus.RepoRoot, "grafana", "provisioning");

    [ToolFact("docker-compose")]
    public void Datasource_Yaml_IsInfluxQlByUidWithCredentialsFromEnvironment()
    {
        var files = Directory.GetFiles(Path.Combine(Provisioning, "datasources"), "*.yaml");
        Assert.Single(files);
        var doc = Yaml.Parse(files[0]);
        Assert.Equal(1, doc["apiVersion"]!.GetValue<int>());
        var ds = Assert.Single(doc["datasources"]!.AsArray())!;
        Assert.Equal(Dashboards.DatasourceUid, (string?)ds["uid"]);
        Assert.Equal("influxdb", (string?)ds["type"]);
        Assert.Equal("proxy", (string?)ds["access"]);
        Assert.Equal("InfluxQL", (string?)ds["jsonData"]?["version"]);
        // url, database, user and password all come from the environment, none is written here
        Assert.Matches(@"^\$\{\w+\}$", (string?)ds["url"]);
        Assert.Matches(@"^\$\{\w+\}$", (string?)ds["jsonData"]?["dbName"]);
        Assert.Matches(@"^\$\{\w+\}$", (string?)ds["user"]);
        Assert.Matches(@"^\$\{\w+\}$", (string?)ds["secureJsonData"]?["password"]);
        var known = new HashSet<string> { "name", "uid", "type", "access", "url", "user", "database", "basicAuth", "basicAuthUser",
            "withCredentials", "isDefault", "jsonData", "secureJsonData", "version", "editable", "orgId" };
        foreach (var key in ds.AsObject().Select(p => p.Key))
            Assert.Contains(key, known);
    }

    [ToolFact("docker-compose")]
    public void DashboardProvider_Yaml_IsAFileProviderForTheMountedDashboards()
    {
        var files = Directory.GetFiles(Path.Combine(Provisioning, "dashboards"), "*.yaml");
        Assert.Single(files);
        var doc = Yaml.Parse(files[0]);
        Assert.Equal(1, doc["apiVersion"]!.GetValue<int>());
        var p = Assert.Single(doc["providers"]!.AsArray())!;
        Assert.Equal("file", (string?)p["type"]);
        Assert.False(string.IsNullOrEmpty((string?)p["name"]));
        string path = (string)p["options"]!["path"]!;
        // docker-compose.yml mounts grafana/dashboards exactly there
        var compose = Yaml.Parse(Path.Combine(Corpus.RepoRoot, "docker-compose.yml"));
        var volumes = compose["services"]!["grafana"]!["volumes"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Contains($"./grafana/dashboards:{path}:ro", volumes);
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", volumes);
    }
}
