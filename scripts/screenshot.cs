#:package PuppeteerSharp
#:package WebDriverBiDi
#:property PublishAot=false

// The first screen of an HTML page as a PNG, drawn by the machine's headless chromium (found on PATH, launched by
// PuppeteerSharp: no browser is downloaded). Used by scripts/screenshots.sh for the README's pictures.
//   dotnet run scripts/screenshot.cs -- PAGE.html OUT.png [WIDTH HEIGHT]
using PuppeteerSharp;

if (args.Length is not (2 or 4))
{
    Console.Error.WriteLine("usage: dotnet run scripts/screenshot.cs -- PAGE.html OUT.png [WIDTH HEIGHT]");
    return 2;
}
string page = Path.GetFullPath(args[0]), png = Path.GetFullPath(args[1]);
int width = args.Length == 4 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1280;
int height = args.Length == 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 900;
string? chromium = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
    .SelectMany(dir => new[] { "chromium", "chromium-browser", "google-chrome" }.Select(name => Path.Combine(dir, name)))
    .FirstOrDefault(File.Exists);
if (chromium is null)
{
    Console.Error.WriteLine("screenshot: no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)");
    return 1;
}

await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
{
    ExecutablePath = chromium,
    Headless = true,
    DefaultViewport = new ViewPortOptions { Width = width, Height = height, DeviceScaleFactor = 1 },
    // Root needs --no-sandbox; nothing here has a GPU.
    Args = ["--no-sandbox", "--disable-gpu", $"--window-size={width},{height}"],
});
var tab = (await browser.PagesAsync()).FirstOrDefault() ?? await browser.NewPageAsync();
var errors = new List<string>();
tab.PageError += (_, e) => errors.Add(e.Message);
tab.RequestFailed += (_, e) => errors.Add($"{e.Request.Url}: {e.Request.FailureText}");
await tab.GoToAsync(new Uri(page).AbsoluteUri, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load] });
if (errors.Count > 0)
{
    Console.Error.WriteLine($"screenshot: {page}: " + string.Join("; ", errors));
    return 1;
}
await tab.ScreenshotAsync(png, new ScreenshotOptions { Type = ScreenshotType.Png });
await browser.CloseAsync();
Console.WriteLine($"{png}: {new FileInfo(png).Length / 1024} KiB ({width}×{height})");
return 0;
