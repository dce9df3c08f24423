using System.Globalization;
using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The interference episodes in analyze's outputs, on the repository's TCG sample (three VMs started together on two pCPUs):
/// JSON <c>interference[]</c> laid out as the metric table says, the text report's Episodes section first and worst first,
/// and one <c>vmtrace_episode</c> point per episode.
/// </summary>
public sealed class AnalyzeEpisodesTests
{
    private static string[] Sample()
    {
        string dir = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");
        return ["analyze", Path.Combine(dir, "trace.dat.xz"), .. Directory.GetFiles(dir, "qemu-*.log.xz").Order(StringComparer.Ordinal), "--no-progress"];
    }

    [CorpusFact]
    public async Task Analyze_TcgSample_EpisodesInJsonTextAndLineProtocolAgree()
    {
        var json = await CliRun.RunAsync([.. Sample(), "--format", "json"]);
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var episodes = doc.RootElement.GetProperty("interference").EnumerateArray().ToList();
        Assert.NotEmpty(episodes);
        long previousStart = long.MinValue;
        foreach (var e in episodes)
        {
            var scalars = e.EnumerateObject().Where(p => p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)).Select(p => p.Name);
            Assert.Equal(MetricSchema.EpisodeJson.Episode.Fields.Select(f => f.Name), scalars);
            foreach (var c in e.GetProperty("culprits").EnumerateArray())
                Assert.Equal(MetricSchema.EpisodeJson.Culprit.Fields.Select(f => f.Name), c.EnumerateObject().Select(p => p.Name));
            var evidence = e.GetProperty("evidence");
            Assert.True(evidence.GetProperty("wanted_ns").GetDouble() > 0);
            double severity = e.GetProperty("severity").GetDouble();
            Assert.InRange(severity, 0, 1);
            Assert.Equal(e.GetProperty("end_ns").GetInt64() - e.GetProperty("start_ns").GetInt64(), e.GetProperty("duration_ns").GetInt64());
            long start = e.GetProperty("start_ns").GetInt64();
            Assert.True(start >= previousStart, "interference[] in start order");
            previousStart = start;
        }

        var text = await CliRun.RunAsync(Sample());
        Assert.Equal(0, text.ExitCode);
        var lines = text.StdoutLines.ToList();
        int header = lines.FindIndex(l => l.StartsWith("Episodes (", StringComparison.Ordinal));
        Assert.True(header >= 0 && header < lines.FindIndex(l => l.StartsWith("VM ", StringComparison.Ordinal)), "Episodes before the VMs");
        Assert.Equal($"Episodes ({episodes.Count}, worst first):", lines[header]);
        var severities = lines.Skip(header + 1).Take(2 * episodes.Count).Where((_, i) => i % 2 == 0)
            .Select(l => double.Parse(l.Split("severity ")[1].Split(' ')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(episodes.Count, severities.Count);
        Assert.Equal(severities.OrderByDescending(s => s), severities);

        var lp = await CliRun.RunAsync([.. Sample(), "--format", "line-protocol"]);
        Assert.Equal(0, lp.ExitCode);
        var points = lp.StdoutLines.Where(l => l.StartsWith("vmtrace_episode,", StringComparison.Ordinal)).ToList();
        Assert.Equal(episodes.Count, points.Count);
        Assert.All(points, p => Assert.Contains(",resource=cpu", p, StringComparison.Ordinal));
    }
}
