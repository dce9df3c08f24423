using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// <c>vmtrace analyze --html</c> on real traces, opened in headless Chromium: the page is self-contained (no
/// script, stylesheet or image from elsewhere, no network request), loads without an error, and its first
/// screen shows the timeline row of every VM of the trace with something drawn in it. The screenshots are kept
/// in artifacts/html-report/ (or $VMTRACE_TEST_ARTIFACTS).
/// </summary>
public sealed class HtmlReportTests
{
    private const int Width = 1280, Height = 1000;

    public static TheoryData<string, string[]> Traces => new()
    {
        // QEMU/TCG: CPU contention between three VMs, disk vs CPU, network
        { "tcg-qemu/s2-cpu-contention", ["vmA", "vmB", "vmC"] },
        { "tcg-qemu/s3-disk-vs-cpu", ["vmD", "vmE"] },
        { "tcg-qemu/s4-net", ["vmN"] },
        // KVM (kvm events only, no inventory: VMs named after their vCPU thread)
        { "hip24-kvm-host-2vms-46s/host.trace.dat", ["qemu-t483882", "qemu-t453724", "qemu-t453725"] },
    };

    [ToolTheory(ChromiumPage.Executable)]
    [MemberData(nameof(Traces))]
    public async Task AnalyzeHtml_RealTrace_LoadsWithoutErrorsAndShowsEveryVm(string trace, string[] vms)
    {
        string dir = TestArtifacts.Directory("html-report");
        string name = trace.Replace('/', '_');
        string html = Path.Combine(dir, name + ".html");
        VmtraceProcess.Run("analyze", Corpus.Path(trace), "--no-progress", "--format", "csv", "--html", html);

        string text = await File.ReadAllTextAsync(html);
        foreach (var foreign in new[] { "<script", "<link", " src=", "url(", "@import", " href=", "<iframe", "<img" })
            Assert.DoesNotContain(foreign, text, StringComparison.OrdinalIgnoreCase);

        await using var browser = await ChromiumPage.StartAsync(Width, Height);
        await browser.NavigateAsync(new Uri(html).AbsoluteUri);
        var rows = (await browser.EvaluateAsync("""
            [...document.querySelectorAll('g.vm-row')].map(g => { const r = g.getBoundingClientRect();
              return { vm: g.dataset.vm, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                       marks: [...g.querySelectorAll('rect[fill]:not([fill="none"]), polyline')].length }; })
            """))!.AsArray();
        byte[] png = await browser.ScreenshotAsync();
        string shot = Path.Combine(dir, name + ".png");
        await File.WriteAllBytesAsync(shot, png);

        Assert.Empty(browser.Errors);
        Assert.Empty(browser.NetworkRequests);
        Assert.Equal(vms.OrderBy(v => v, StringComparer.Ordinal), rows.Select(r => (string)r!["vm"]!).OrderBy(v => v, StringComparer.Ordinal));
        foreach (var row in rows)
        {
            string vm = (string)row!["vm"]!;
            Assert.True((double)row["top"]! >= 0 && (double)row["bottom"]! <= Height && (double)row["right"]! <= Width,
                $"{vm}'s timeline row is outside the first screen ({row.ToJsonString()}); screenshot {shot}");
            Assert.True((int)row["marks"]! > 0, $"{vm}'s timeline row is empty; screenshot {shot}");
        }
        Assert.True(png.Length > 10_000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', $"not a real screenshot: {shot}");
    }
}
