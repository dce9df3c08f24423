using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Vmtrace.InfluxDb;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>VM and host names that line protocol cannot carry as they are go through agent, Kafka and worker into InfluxDB: every point stored, none rejected, as <c>analyze</c> prints them.</summary>
public sealed class HostileNamesPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmtrace-hostile-").FullName;

    /// <summary>
    /// The sample's vmmap.json with its VMs renamed: one ending in a backslash (which made InfluxDB reject the points
    /// of that VM and of every tag after it), one with commas, equals signs and spaces, one with a newline; the host
    /// id likewise. <c>vmtrace analyze --format line-protocol</c> and the worker must write the same points, all stored.
    /// </summary>
    [InfluxFact]
    public async Task Replay_VmNamesWithBackslashNewlineCommaEquals_AllPointsStoredAsAnalyzeWritesThem()
    {
        var names = new Dictionary<string, string> { ["web"] = "web\\", ["db"] = "db,host=evil x=1i", ["edge"] = "edge\n'q'" };
        var map = JsonNode.Parse(File.ReadAllText(Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/vmmap.json")))!;
        foreach (var vm in map["vms"]!.AsArray())
            vm!["name"] = names[vm["name"]!.GetValue<string>()];
        string inventory = Path.Combine(_directory, "vmmap.json");
        File.WriteAllText(inventory, map.ToJsonString());
        string trace = Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz");
        const string host = "rack 1,row=2\\";

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["analyze", trace, "--inventory", inventory, "--format", "line-protocol", "--host", host, "--no-progress"], stdout, stderr);
        Assert.True(rc == 0, $"vmtrace analyze exited {rc}: {stderr}");
        var expected = PointSet.FromLineProtocol(stdout.ToString());

        using var h = new PipelineHarness(influx);
        using var worker = h.Worker();
        await worker.StartAsync();
        using (var agent = h.Agent([trace], host, new Dictionary<string, string?> { ["Agent:Inventory"] = inventory }))
        {
            await agent.StartAsync();
            await agent.Services.GetRequiredService<Vmtrace.Agent.AgentService>().Completion.WaitAsync(TimeSpan.FromMinutes(3));
            await agent.StopAsync();
        }
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();

        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(0, counters.PointsRejected);
        using var doc = System.Text.Json.JsonDocument.Parse(h.Query("SHOW TAG VALUES FROM vmtrace_vm WITH KEY IN (\"vm\", \"host\")"));
        var stored = doc.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values").EnumerateArray()
            .Select(v => LineProtocolWriter.DecodeTagValue(v[1].GetString()!)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names.Values.Append(host).Order(StringComparer.Ordinal).ToArray(), stored);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
