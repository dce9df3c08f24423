using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vmtrace.Dashboards.Tests;

/// <summary>
/// Debian's headless <c>chromium</c> driven over the DevTools protocol (a WebSocket): loads a page, collects
/// JavaScript exceptions, console and log errors and every non-file request, evaluates expressions, and takes
/// a PNG screenshot. Started with the flags that keep it off the (closed) network and in a fresh profile.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly Dictionary<int, TaskCompletionSource<JsonNode>> _pending = [];
    private readonly List<string> _errors = [];
    private readonly List<string> _requests = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reader;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Errors seen so far: exceptions, console.error, log entries of level error.</summary>
    public IReadOnlyList<string> Errors { get { lock (_errors) return [.. _errors]; } }

    /// <summary>URLs the page requested other than file: and data: ones.</summary>
    public IReadOnlyList<string> NetworkRequests { get { lock (_requests) return [.. _requests]; } }

    public static async Task<HeadlessChromium> StartAsync(int width, int height)
    {
        string profile = Directory.CreateTempSubdirectory("vmtrace-chromium-").FullName;
        var psi = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     $"--window-size={width},{height}", "about:blank",
                 })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start chromium");
        var browser = new HeadlessChromium(process, profile);
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.AppendLine(e.Data);
            var m = DevToolsLine().Match(e.Data);
            if (m.Success) endpoint.TrySetResult(m.Groups[1].Value);
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var done = await Task.WhenAny(endpoint.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        if (done != endpoint.Task)
        {
            await browser.DisposeAsync();
            lock (log) throw new InvalidOperationException("chromium did not print its DevTools endpoint: " + log);
        }
        // ws://127.0.0.1:PORT/devtools/browser/ID → the page target from /json/list
        var browserUri = new Uri(endpoint.Task.Result);
        using var http = new HttpClient();
        string list = await http.GetStringAsync($"http://127.0.0.1:{browserUri.Port}/json/list");
        string page = JsonNode.Parse(list)!.AsArray().First(t => (string?)t!["type"] == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
        await browser._socket.ConnectAsync(new Uri(page), CancellationToken.None);
        browser._reader = Task.Run(browser.ReadLoopAsync);
        await browser.SendAsync("Runtime.enable");
        await browser.SendAsync("Log.enable");
        await browser.SendAsync("Page.enable");
        await browser.SendAsync("Network.enable");
        await browser.SendAsync("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false });
        return browser;
    }

    public async Task NavigateAsync(string url)
    {
        _loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reply = await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        if (reply["errorText"] is { } err)
            throw new InvalidOperationException($"navigation to {url} failed: {err}");
        if (await Task.WhenAny(_loaded.Task, Task.Delay(TimeSpan.FromSeconds(30))) != _loaded.Task)
            throw new TimeoutException($"{url} did not finish loading in 30 s");
    }

    /// <summary>Evaluates a JavaScript expression in the page; returns its value (by value, as JSON).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var reply = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (reply["exceptionDetails"] is { } ex)
            throw new InvalidOperationException($"evaluating {expression}: {ex.ToJsonString()}");
        return reply["result"]?["value"];
    }

    public async Task<byte[]> ScreenshotAsync()
    {
        var reply = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(reply["data"]!.GetValue<string>());
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        var tcs = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (_pending)
        {
            id = ++_nextId;
            _pending[id] = tcs;
        }
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        if (await Task.WhenAny(tcs.Task, Task.Delay(TimeSpan.FromSeconds(30))) != tcs.Task)
            throw new TimeoutException($"no DevTools answer to {method}");
        return tcs.Task.Result;
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                    break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage)
                    continue;
                var node = JsonNode.Parse(message.ToArray())!;
                message.SetLength(0);
                Dispatch(node);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // closing
        }
        lock (_pending)
            foreach (var p in _pending.Values)
                p.TrySetException(new InvalidOperationException("DevTools connection closed"));
    }

    private void Dispatch(JsonNode node)
    {
        if (node["id"] is { } idNode)
        {
            TaskCompletionSource<JsonNode>? tcs;
            lock (_pending)
                _pending.Remove(idNode.GetValue<int>(), out tcs);
            if (node["error"] is { } error)
                tcs?.TrySetException(new InvalidOperationException("DevTools error: " + error.ToJsonString()));
            else
                tcs?.TrySetResult(node["result"] ?? new JsonObject());
            return;
        }
        var p = node["params"];
        string? type = p?["type"]?.GetValue<string>();
        string? level = p?["entry"]?["level"]?.GetValue<string>();
        switch ((string?)node["method"])
        {
            case "Page.loadEventFired":
                _loaded.TrySetResult();
                break;
            case "Runtime.exceptionThrown":
                AddError("exception: " + p?["exceptionDetails"]?.ToJsonString());
                break;
            case "Runtime.consoleAPICalled" when type is "error" or "assert":
                AddError("console." + type + ": " + p?["args"]?.ToJsonString());
                break;
            case "Log.entryAdded" when level == "error":
                AddError("log: " + p?["entry"]?["text"]);
                break;
            case "Network.requestWillBeSent":
                string url = p?["request"]?["url"]?.GetValue<string>() ?? "";
                if (!url.StartsWith("file:", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal) && url != "about:blank")
                    lock (_requests) _requests.Add(url);
                break;
            case "Network.loadingFailed":
                AddError("loading failed: " + p?.ToJsonString());
                break;
        }
    }

    private void AddError(string text)
    {
        lock (_errors)
            _errors.Add(text);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        if (_reader is not null)
            await Task.WhenAny(_reader, Task.Delay(2000));
        _socket.Dispose();
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}
