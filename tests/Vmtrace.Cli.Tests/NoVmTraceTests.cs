using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>A trace with no VM closes no window: its range is still the events' own, never negative.</summary>
public sealed partial class NoVmTraceTests
{
    // An LTTng CTF kernel trace of a host running no VM.
    private static string Trace => Corpus.Path("tracecompass-test-traces-ctf/many-threads");

    [GeneratedRegex(@"range: (\d+\.\d+) \.\. (\d+\.\d+) \(([^)]*)\)")]
    private static partial Regex Range();

    [CorpusFact]
    public async Task Analyze_CtfTraceWithoutVms_RangeSpansTheEventsInTableJsonAndHtml()
    {
        var json = await CliRun.RunAsync("analyze", Trace, "--no-progress", "--format", "json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        long first = root.GetProperty("first_event_ns").GetInt64(), last = root.GetProperty("last_event_ns").GetInt64();
        Assert.True(last > first);
        var total = root.GetProperty("total");
        Assert.Equal(0, total.GetProperty("vms").GetArrayLength());
        Assert.Equal((first, last), (total.GetProperty("start_ns").GetInt64(), total.GetProperty("end_ns").GetInt64()));
        Assert.True(total.GetProperty("pcpus").GetInt32() > 0);

        var table = await CliRun.RunAsync("analyze", Trace, "--no-progress");
        var m = Range().Match(Assert.Single(table.StdoutLines, l => l.StartsWith("events:", StringComparison.Ordinal)));
        Assert.True(m.Success);
        Assert.Equal(first / 1_000_000_000, long.Parse(m.Groups[1].Value.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(last / 1_000_000_000, long.Parse(m.Groups[2].Value.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.DoesNotContain("-", m.Groups[3].Value, StringComparison.Ordinal);
        Assert.Contains(table.StdoutLines, l => l.StartsWith("no VM found", StringComparison.Ordinal));

        string html = Path.Combine(Path.GetTempPath(), $"vmtrace-novm-{Guid.NewGuid():N}.html");
        try
        {
            await CliRun.RunAsync("analyze", Trace, "--no-progress", "--html", html);
            string text = File.ReadAllText(html);
            var h = Range().Match(text.Replace(", ", " ", StringComparison.Ordinal).Replace("events ", "range: ", StringComparison.Ordinal));
            Assert.True(h.Success, text);
            Assert.Equal((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value), (h.Groups[1].Value, h.Groups[2].Value, h.Groups[3].Value));
        }
        finally
        {
            File.Delete(html);
        }
    }
}
