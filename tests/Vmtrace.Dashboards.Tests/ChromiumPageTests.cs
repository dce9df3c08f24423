using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// What <see cref="HtmlReportTests"/> relies on when it finds no error and no request: a page with one fault of
/// each kind is reported with each of them.
/// </summary>
public sealed class ChromiumPageTests
{
    [ToolFact(ChromiumPage.Executable)]
    public async Task ChromiumPage_PageWithOneFaultOfEachKind_ReportsEveryFaultAndRequest()
    {
        // Port 9 (discard) on loopback: the request is made and refused at once, nothing leaves the machine.
        const string Refused = "http://127.0.0.1:9/missing.png";
        string html = Path.Combine(Directory.CreateTempSubdirectory("vmtrace-chromium-page-").FullName, "faults.html");
        await File.WriteAllTextAsync(html, $$"""
            <!doctype html><html><body>
            <img src="{{Refused}}">
            <script>console.error('console-error-marker'); console.assert(false, 'assert-marker');</script>
            <script>throw new Error('exception-marker');</script>
            <div id="answer" data-n="41"></div>
            </body></html>
            """);
        try
        {
            await using var browser = await ChromiumPage.StartAsync(640, 480);
            await browser.NavigateAsync(new Uri(html).AbsoluteUri);
            var value = await browser.EvaluateAsync("({ n: Number(document.getElementById('answer').dataset.n) + 1, w: innerWidth })");
            var png = await browser.ScreenshotAsync();

            Assert.Equal(42, (int)value!["n"]!);
            Assert.Equal(640, (int)value["w"]!);
            Assert.Equal([Refused], browser.NetworkRequests);
            var errors = browser.Errors;
            Assert.Contains(errors, e => e.StartsWith("exception: ", StringComparison.Ordinal) && e.Contains("exception-marker", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.Contains("console-error-marker", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.Contains("assert-marker", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.StartsWith("loading failed: " + Refused, StringComparison.Ordinal));
            // the browser's own log entry (Log domain, level error) for the refused image
            Assert.Contains(errors, e => e.Contains("Failed to load resource", StringComparison.Ordinal));
            Assert.True(png.Length > 8 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "not a PNG screenshot");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(html)!, true);
        }
    }
}
