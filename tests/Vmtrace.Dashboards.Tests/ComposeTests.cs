using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Vmtrace.Agent;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// docker-compose.yml, checked with Debian's docker-compose (no Docker engine here: the images are neither
/// built nor run): the file is valid, every image pinned, start order and healthchecks as documented.
/// </summary>
public sealed class ComposeTests
{
    private static string ComposeFile => Path.Combine(Corpus.RepoRoot, "docker-compose.yml");

    private static JsonNode Config() =>
        Yaml.ParseText(Tools.Run("docker-compose", "--project-directory", Corpus.RepoRoot, "-f", ComposeFile, "config"));

    [ToolFact("docker-compose")]
    public void ComposeFile_DockerComposeConfig_IsValid()
    {
        Tools.Run("docker-compose", "--project-directory", Corpus.RepoRoot, "-f", ComposeFile, "config", "-q");
    }

    [ToolFact("docker-compose")]
    public void ComposeFile_EveryImage_IsPinnedToAVersion()
    {
        var services = Config()["services"]!.AsObject();
        Assert.Equal(["agent", "grafana", "influx-init", "influxdb", "kafka", "kafka-topics", "worker"], services.Select(s => s.Key).Order(StringComparer.Ordinal));
        foreach (var (name, svc) in services)
        {
            string image = (string?)svc!["image"] ?? throw new Xunit.Sdk.XunitException($"{name} has no image");
            int colon = image.LastIndexOf(':');
            Assert.True(colon > image.LastIndexOf('/'), $"{name}: {image} has no tag");
            string tag = image[(colon + 1)..];
            Assert.NotEqual("latest", tag);
            Assert.Matches(@"\d|^dev$", tag);
        }
        Assert.Equal("influxdb:1.8.10", (string?)services["influxdb"]!["image"]);
        Assert.StartsWith("apache/kafka:", (string?)services["kafka"]!["image"]);
        foreach (var dockerfile in Directory.GetFiles(Path.Combine(Corpus.RepoRoot, "deploy", "docker"), "*.Dockerfile"))
            foreach (var from in File.ReadLines(dockerfile).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)))
                Assert.Matches(@"^FROM \S+:\d+(\.\d+)+( AS \w+)?$", from);
    }

    [ToolFact("docker-compose")]
    public void ComposeFile_StartOrder_TopicsAndDatabaseBeforeWorkerAndAgent()
    {
        var s = Config()["services"]!;
        string Condition(string svc, string on) => (string)s[svc]!["depends_on"]![on]!["condition"]!;
        Assert.Equal("service_healthy", Condition("kafka-topics", "kafka"));
        Assert.Equal("service_healthy", Condition("influx-init", "influxdb"));
        Assert.Equal("service_completed_successfully", Condition("worker", "kafka-topics"));
        Assert.Equal("service_completed_successfully", Condition("worker", "influx-init"));
        Assert.Equal("service_completed_successfully", Condition("agent", "kafka-topics"));
        Assert.Equal("service_healthy", Condition("grafana", "influxdb"));
        foreach (var svc in new[] { "kafka", "influxdb", "grafana" })
            Assert.NotNull(s[svc]!["healthcheck"]);
        // the agent replays files the repository holds
        foreach (var (key, value) in s["agent"]!["environment"]!.AsObject())
            if (key.StartsWith("VMTRACE__AGENT__INPUTS__", StringComparison.Ordinal) || key == "VMTRACE__AGENT__INVENTORY")
                Assert.True(File.Exists(Path.Combine(Corpus.RepoRoot, "samples", ((string)value!)["/samples/".Length..])), $"{key}={value} is not in samples/");
    }

    /// <summary>
    /// The agent's environment, bound the way the agent binds it, is a valid replay that lands in the present
    /// (Grafana's default ranges are the last hours; the recorded 2026 times would fall outside them) and keeps
    /// streaming at recorded speed. The shift itself is tested in Vmtrace.Agent.Tests (ReplayTimingTests).
    /// </summary>
    [ToolFact("docker-compose")]
    public void ComposeFile_Agent_ReplaysTheSampleShiftedToNowPacedAndLooped()
    {
        var env = Config()["services"]!["agent"]!["environment"]!.AsObject();
        var settings = env.Where(kv => kv.Key.StartsWith("VMTRACE__", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["VMTRACE__".Length..].Replace("__", ":", StringComparison.Ordinal),
                kv => ((string?)kv.Value)?.Replace("/samples/", Path.Combine(Corpus.RepoRoot, "samples") + "/", StringComparison.Ordinal));
        var options = new AgentOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(AgentOptions.Section).Bind(options);
        Assert.Empty(options.Problems());
        Assert.True(options.Replay.ShiftToNow);
        Assert.True(options.Replay.Loop);
        Assert.Equal(1, options.Speed);
        Assert.Equal(TimeSpan.Zero, options.Replay.Shift);
        Assert.Equal(4, options.Inputs.Count);
    }
}
