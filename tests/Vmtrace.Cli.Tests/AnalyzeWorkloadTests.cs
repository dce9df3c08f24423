using System.Globalization;
using System.Text.Json;

namespace Vmtrace.Cli.Tests;

/// <summary>The workload class of each VM and window in analyze's JSON and line protocol (samples/tcg-3vms, with its vmmap.json).</summary>
public class AnalyzeWorkloadTests
{
    private static string[] Sample()
    {
        string dir = Path.Combine(TestSupport.Corpus.RepoRoot, "samples", "tcg-3vms");
        return [Path.Combine(dir, "trace.dat.xz"), .. Directory.GetFiles(dir, "qemu-*.log.xz").Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Analyze_TcgSample_JsonAndLineProtocolCarryTheSameClassesAndTotalIsTheDominantOne()
    {
        var json = await CliRun.RunAsync(["analyze", .. Sample(), "--format", "json", "--host", "lab", "--no-progress"]);
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var byWindow = new Dictionary<(long, string), (string Class, double Confidence)>();
        string[] classes = ["idle", "cpu", "disk", "net", "mixed"];
        foreach (var w in doc.RootElement.GetProperty("windows").EnumerateArray())
        {
            foreach (var vm in w.GetProperty("vms").EnumerateArray())
            {
                var wl = vm.GetProperty("workload");
                var c = (wl.GetProperty("class").GetString()!, wl.GetProperty("confidence").GetDouble());
                Assert.Contains(c.Item1, classes);
                Assert.InRange(c.Item2, 0, 1);
                byWindow[(w.GetProperty("start_ns").GetInt64(), vm.GetProperty("vm").GetString()!)] = c;
            }
        }
        Assert.NotEmpty(byWindow);

        // total: each VM's most frequent class over its windows (ties to the first name), confidence its share of them.
        foreach (var vm in doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray())
        {
            string name = vm.GetProperty("vm").GetString()!;
            var mine = byWindow.Where(kv => kv.Key.Item2 == name).Select(kv => kv.Value.Class).ToList();
            var top = mine.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
            Assert.Equal(top.Key, vm.GetProperty("workload").GetProperty("class").GetString());
            Assert.Equal(Math.Round((double)top.Count() / mine.Count, 4), vm.GetProperty("workload").GetProperty("confidence").GetDouble());
        }

        var lp = await CliRun.RunAsync(["analyze", .. Sample(), "--format", "line-protocol", "--host", "lab", "--no-progress"]);
        Assert.Equal(0, lp.ExitCode);
        var points = lp.StdoutLines.Where(l => l.StartsWith("vmtrace_workload,", StringComparison.Ordinal)).ToList();
        Assert.Equal(byWindow.Count, points.Count);
        foreach (var line in points)
        {
            // vmtrace_workload,host=lab,vm=NAME class="C",confidence=X TS (sample VM names need no escaping)
            var parts = line.Split(' ');
            string vm = parts[0].Split(",vm=")[1];
            long ts = long.Parse(parts[2], CultureInfo.InvariantCulture);
            var fields = parts[1].Split(',');
            var expected = byWindow[(ts, vm)];
            Assert.Equal($"class=\"{expected.Class}\"", fields[0]);
            Assert.Equal(expected.Confidence, double.Parse(fields[1]["confidence=".Length..], CultureInfo.InvariantCulture));
        }
    }
}
