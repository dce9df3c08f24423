using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The workload classes and the interference episodes in the human views — analyze's CSV, text table and HTML report,
/// and <c>vmtrace top</c> — against analyze's own JSON on the same recording (samples/tcg-3vms with its vmmap.json): no
/// figure here is written by hand, each side is the product's output.
/// </summary>
public sealed partial class AnalyzeViewsTests
{
    private static string Sample => Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");

    private static readonly Lazy<string> s_json = new(() =>
    {
        var r = CliRun.RunAsync("analyze", Sample, "--format", "json", "--no-progress").GetAwaiter().GetResult();
        Assert.Equal(0, r.ExitCode);
        return r.Stdout;
    });

    /// <summary>Per window and VM: the JSON's workload class and confidence.</summary>
    private static Dictionary<(long Start, string Vm), (string Class, double Confidence)> JsonWorkloads(JsonDocument doc) =>
        doc.RootElement.GetProperty("windows").EnumerateArray().SelectMany(w => w.GetProperty("vms").EnumerateArray().Select(v =>
            (Key: (w.GetProperty("start_ns").GetInt64(), v.GetProperty("vm").GetString()!), Workload: v.GetProperty("workload"))))
            .ToDictionary(x => x.Key, x => (x.Workload.GetProperty("class").GetString()!, x.Workload.GetProperty("confidence").GetDouble()));

    /// <summary>Per VM: total's workload, the VM's most frequent class over its windows and the share of them in it.</summary>
    private static Dictionary<string, (string Class, double Share)> JsonDominant(JsonDocument doc) =>
        doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray().ToDictionary(v => v.GetProperty("vm").GetString()!,
            v => (v.GetProperty("workload").GetProperty("class").GetString()!, v.GetProperty("workload").GetProperty("confidence").GetDouble()));

    private static List<(string Vm, string Resource, long Start, long End, double Severity, string Advice)> JsonEpisodes(JsonDocument doc) =>
        [.. doc.RootElement.GetProperty("interference").EnumerateArray().Select(e => (e.GetProperty("vm").GetString()!, e.GetProperty("resource").GetString()!,
            e.GetProperty("start_ns").GetInt64(), e.GetProperty("end_ns").GetInt64(), e.GetProperty("severity").GetDouble(), e.GetProperty("advice").GetString()!))];

    [Fact]
    public async Task AnalyzeCsv_TcgSample_WorkloadColumnsAreTheJsonWindowClassesAndTheDominantClass()
    {
        using var doc = JsonDocument.Parse(s_json.Value);
        var windows = JsonWorkloads(doc);
        var dominant = JsonDominant(doc);
        var csv = await CliRun.RunAsync("analyze", Sample, "--format", "csv", "--no-progress");
        Assert.Equal(0, csv.ExitCode);
        var header = Csv.Cells(csv.StdoutLines[0]);
        int start = header.IndexOf("window_start_ns"), vm = header.IndexOf("vm"), cls = header.IndexOf("workload_class"),
            conf = header.IndexOf("workload_confidence"), dom = header.IndexOf("dominant_workload_class"), share = header.IndexOf("dominant_workload_share");
        Assert.True(start >= 0 && vm >= 0 && cls >= 0 && conf >= 0 && dom >= 0 && share >= 0, csv.StdoutLines[0]);
        var rows = csv.StdoutLines.Skip(1).Select(Csv.Cells).ToList();
        Assert.Equal(windows.Count, rows.Count);
        foreach (var row in rows)
        {
            var key = (long.Parse(row[start], CultureInfo.InvariantCulture), row[vm]);
            Assert.Equal(windows[key].Class, row[cls]);
            Assert.Equal(windows[key].Confidence, double.Parse(row[conf], CultureInfo.InvariantCulture));
            Assert.Equal(dominant[row[vm]].Class, row[dom]);
            Assert.Equal(dominant[row[vm]].Share, double.Parse(row[share], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task AnalyzeTable_TcgSample_EachVmShowsItsDominantClassAndItsWindowsClassByClass()
    {
        using var doc = JsonDocument.Parse(s_json.Value);
        var windows = JsonWorkloads(doc);
        var dominant = JsonDominant(doc);
        var table = await CliRun.RunAsync("analyze", Sample, "--no-progress");
        Assert.Equal(0, table.ExitCode);
        var lines = table.StdoutLines;
        foreach (var (vm, d) in dominant)
        {
            int block = Array.FindIndex(lines, l => l.StartsWith($"VM {vm} ", StringComparison.Ordinal));
            Assert.True(block >= 0, $"no block of VM {vm}");
            string line = lines.Skip(block + 1).TakeWhile(l => l.StartsWith(' ')).Single(l => l.StartsWith("  workload: ", StringComparison.Ordinal));
            var mine = windows.Where(kv => kv.Key.Vm == vm).OrderBy(kv => kv.Key.Start).Select(kv => kv.Value.Class).ToList();
            Assert.StartsWith($"  workload: {d.Class} ({Units.Percent(d.Share)} of its {mine.Count} windows)", line, StringComparison.Ordinal);
            // The runs, in order: each class with its count of consecutive windows (the sample's windows are contiguous).
            var runs = new List<(string Class, int Count)>();
            foreach (var c in mine)
            {
                if (runs.Count > 0 && runs[^1].Class == c)
                    runs[^1] = (c, runs[^1].Count + 1);
                else
                    runs.Add((c, 1));
            }
            var shown = WorkloadRun().Matches(line).Select(m => (m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
            Assert.Equal(runs.Take(8), shown);
        }
    }

    [Fact]
    public async Task AnalyzeHtml_TcgSample_TimelineBandsAreTheJsonEpisodesAndWorkloadClasses()
    {
        using var doc = JsonDocument.Parse(s_json.Value);
        var episodes = JsonEpisodes(doc);
        Assert.NotEmpty(episodes);
        var windows = JsonWorkloads(doc);
        string html = Path.Combine(Directory.CreateTempSubdirectory("vmtrace-html-views-").FullName, "report.html");
        var r = await CliRun.RunAsync("analyze", Sample, "--format", "csv", "--no-progress", "--html", html);
        Assert.Equal(0, r.ExitCode);
        string text = await File.ReadAllTextAsync(html, Encoding.UTF8);
        var drawnEpisodes = new List<(string, string, long, long, double, string)>();
        var drawnWorkloads = new Dictionary<(long, string), string>();
        foreach (Match row in VmRow().Matches(text))
        {
            string vm = System.Net.WebUtility.HtmlDecode(row.Groups[1].Value);
            foreach (Match e in EpisodeBand().Matches(row.Groups[2].Value))
            {
                string title = System.Net.WebUtility.HtmlDecode(e.Groups[5].Value);
                drawnEpisodes.Add((vm, e.Groups[1].Value, long.Parse(e.Groups[2].Value, CultureInfo.InvariantCulture),
                    long.Parse(e.Groups[3].Value, CultureInfo.InvariantCulture), double.Parse(e.Groups[4].Value, CultureInfo.InvariantCulture), title));
            }
            foreach (Match w in WorkloadCell().Matches(row.Groups[2].Value))
                drawnWorkloads.Add((long.Parse(w.Groups[2].Value, CultureInfo.InvariantCulture), vm), w.Groups[1].Value);
        }
        var expected = episodes.OrderBy(e => e.Vm, StringComparer.Ordinal).ThenBy(e => e.Start).ToList();
        var drawn = drawnEpisodes.OrderBy(e => e.Item1, StringComparer.Ordinal).ThenBy(e => e.Item3).ToList();
        Assert.Equal(expected.Select(e => (e.Vm, e.Resource, e.Start, e.End, e.Severity)), drawn.Select(d => (d.Item1, d.Item2, d.Item3, d.Item4, d.Item5)));
        // The tooltip says the advice (the culprits are in it too).
        foreach (var (e, d) in expected.Zip(drawn))
            Assert.EndsWith(e.Advice, d.Item6, StringComparison.Ordinal);
        Assert.Equal(windows.ToDictionary(kv => kv.Key, kv => kv.Value.Class).OrderBy(kv => kv.Key), drawnWorkloads.OrderBy(kv => kv.Key));
        // The episodes' table lists each once; the VM list names each VM's dominant class.
        Assert.Equal(episodes.Count, Regex.Matches(text, "<tr><td class=\"l\">[^<]*</td><td class=\"l\">(cpu|exits)</td><td style=").Count);
        foreach (var (vm, d) in JsonDominant(doc))
            Assert.Contains($"<span class=\"workload-class\" data-vm=\"{vm}\">{d.Class}</span>", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>top --replay --once --format json</c>: the episodes of all refreshes are analyze's (same recording, same 1 s window), each in
    /// the refresh whose window closed it (its end at or after the episode's end, and before it the episode was still open).
    /// </summary>
    [Fact]
    public async Task TopReplayOnceJson_TcgSample_EpisodesAreAnalyzesEachInTheRefreshThatClosedIt()
    {
        using var doc = JsonDocument.Parse(s_json.Value);
        var expected = JsonEpisodes(doc);
        Assert.NotEmpty(expected);
        var top = await CliRun.RunAsync("top", "--replay", Sample, "--once", "--format", "json");
        Assert.Equal(0, top.ExitCode);
        using var t = JsonDocument.Parse(top.Stdout);
        var shown = new List<(string Vm, string Resource, long Start, long End, double Severity, string Advice)>();
        foreach (var w in t.RootElement.GetProperty("windows").EnumerateArray())
        {
            long end = w.GetProperty("end_ns").GetInt64();
            foreach (var e in w.GetProperty("interference").EnumerateArray())
            {
                var item = (e.GetProperty("vm").GetString()!, e.GetProperty("resource").GetString()!, e.GetProperty("start_ns").GetInt64(),
                    e.GetProperty("end_ns").GetInt64(), e.GetProperty("severity").GetDouble(), e.GetProperty("advice").GetString()!);
                Assert.True(end >= item.Item4, $"{item} shown with the window ending {end}, before it ended");
                shown.Add(item);
            }
        }
        Assert.Equal(expected.Order(), shown.Order());
    }

    /// <summary>
    /// <c>top --replay --once</c> (plain table): each VM's "last episode" cell is empty until the refresh whose window closed
    /// its first episode (the JSON's), and from then on names its latest closed one.
    /// </summary>
    [Fact]
    public async Task TopReplayOncePlain_TcgSample_LastEpisodeColumnIsTheLatestClosedEpisode()
    {
        var json = await CliRun.RunAsync("top", "--replay", Sample, "--once", "--format", "json");
        var plain = await CliRun.RunAsync("top", "--replay", Sample, "--once");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal(0, plain.ExitCode);
        using var t = JsonDocument.Parse(json.Stdout);
        var blocks = plain.Stdout.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(b => b.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var windows = t.RootElement.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(windows.Count, blocks.Count);
        var latest = new Dictionary<string, string>();
        int shown = 0;
        for (int i = 0; i < windows.Count; i++)
        {
            foreach (var e in windows[i].GetProperty("interference").EnumerateArray().OrderBy(e => e.GetProperty("end_ns").GetInt64()))
            {
                var culprits = e.GetProperty("culprits").EnumerateArray().ToList();
                latest[e.GetProperty("vm").GetString()!] = $"{e.GetProperty("resource").GetString()} {e.GetProperty("severity").GetDouble().ToString("0.00", CultureInfo.InvariantCulture)}"
                    + (culprits.Count > 0 ? $" by {culprits[0].GetProperty("name").GetString()}" : "") + $" (ended {Units.Seconds(e.GetProperty("end_ns").GetInt64())})";
            }
            foreach (var vm in windows[i].GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("vm").GetString()!))
            {
                string row = Assert.Single(blocks[i], l => l.StartsWith(vm + " ", StringComparison.Ordinal));
                if (latest.TryGetValue(vm, out var cell))
                {
                    Assert.EndsWith("  " + cell, row, StringComparison.Ordinal);
                    shown++;
                }
                else
                {
                    Assert.EndsWith("B/s", row, StringComparison.Ordinal);
                }
            }
        }
        Assert.True(shown > 0, "no refresh showed an episode");
    }

    [GeneratedRegex(@"(\w+) [0-9.]+ \.\. [0-9.]+ \((\d+) x, confidence")]
    private static partial Regex WorkloadRun();

    [GeneratedRegex("<g class=\"vm-row\" data-vm=\"([^\"]*)\">(.*?)</g>", RegexOptions.Singleline)]
    private static partial Regex VmRow();

    [GeneratedRegex("<rect class=\"episode\" data-resource=\"([^\"]*)\" data-start-ns=\"(\\d+)\" data-end-ns=\"(\\d+)\" data-severity=\"([^\"]+)\"[^>]*><title>([^<]*)</title>")]
    private static partial Regex EpisodeBand();

    [GeneratedRegex("<rect class=\"workload\" data-class=\"([^\"]*)\" data-start-ns=\"(\\d+)\"")]
    private static partial Regex WorkloadCell();
}
