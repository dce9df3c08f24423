using System.Text.Json.Nodes;
using PuppeteerSharp;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// One page of the machine's headless <c>chromium</c> (Debian's package, found on PATH and launched by
/// PuppeteerSharp through <see cref="LaunchOptions.ExecutablePath"/>: no browser is ever downloaded), with
/// everything that went wrong on it collected: JavaScript exceptions, console errors and assertions, log entries
/// of level error, failed loads; and every request that left the file system.
/// </summary>
internal sealed class ChromiumPage : IAsyncDisposable
{
    public const string Executable = "chromium";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly IBrowser _browser;
    private readonly IPage _page;
    private readonly List<string> _errors = [];
    private readonly List<string> _requests = [];

    private ChromiumPage(IBrowser browser, IPage page)
    {
        _browser = browser;
        _page = page;
        // Puppeteer reports exceptions as PageError, and console.error/console.assert and Log domain entries of
        // level error as Console messages.
        page.PageError += (_, e) => AddError("exception: " + e.Message);
        page.Console += (_, e) =>
        {
            if (e.Message.Type is ConsoleType.Error or ConsoleType.Assert)
                AddError($"console.{e.Message.Type}: {e.Message.Text} ({e.Message.Location?.URL})");
        };
        page.RequestFailed += (_, e) => AddError($"loading failed: {e.Request.Url}: {e.Request.FailureText}");
        page.Request += (_, e) =>
        {
            string url = e.Request.Url;
            if (!url.StartsWith("file:", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal) && url != "about:blank")
                lock (_requests) _requests.Add(url);
        };
    }

    /// <summary>Errors seen so far: exceptions, console.error and console.assert, log entries of level error, failed loads.</summary>
    public IReadOnlyList<string> Errors { get { lock (_errors) return [.. _errors]; } }

    /// <summary>URLs the page requested other than file: and data: ones.</summary>
    public IReadOnlyList<string> NetworkRequests { get { lock (_requests) return [.. _requests]; } }

    /// <summary>Starts chromium off the network's background services, in a fresh profile, with a viewport of this size.</summary>
    public static async Task<ChromiumPage> StartAsync(int width, int height)
    {
        var options = new LaunchOptions
        {
            ExecutablePath = ExecutablePath(),
            Headless = true,
            Timeout = (int)Timeout.TotalMilliseconds,
            ProtocolTimeout = (int)Timeout.TotalMilliseconds,
            DefaultViewport = new ViewPortOptions { Width = width, Height = height, DeviceScaleFactor = 1 },
            // Puppeteer's defaults already turn off background networking, component updates, sync and the
            // first-run screens; root needs --no-sandbox, and nothing here has a GPU.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", $"--window-size={width},{height}"],
        };
        var browser = await Puppeteer.LaunchAsync(options);
        try
        {
            var pages = await browser.PagesAsync();
            var page = pages.Length > 0 ? pages[0] : await browser.NewPageAsync();
            return new ChromiumPage(browser, page);
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Loads <paramref name="url"/> and waits for its load event.</summary>
    public async Task NavigateAsync(string url)
    {
        var response = await _page.GoToAsync(url, new NavigationOptions { Timeout = (int)Timeout.TotalMilliseconds, WaitUntil = [WaitUntilNavigation.Load] });
        if (response is { Ok: false })
            throw new InvalidOperationException($"navigation to {url} failed: {response.Status}");
    }

    /// <summary>Evaluates a JavaScript expression in the page; returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        // JSON.stringify in the page gives exactly the value the expression made, whatever .NET type would fit it.
        string? json = await _page.EvaluateExpressionAsync<string?>($"JSON.stringify({expression})");
        return json is null ? null : JsonNode.Parse(json);
    }

    public Task<byte[]> ScreenshotAsync() => _page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png });

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        await _browser.DisposeAsync();
    }

    private static string ExecutablePath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, Executable))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{Executable} is not on PATH (apt-get install chromium, see scripts/install-deps.sh)");

    private void AddError(string text)
    {
        lock (_errors)
            _errors.Add(text);
    }
}
