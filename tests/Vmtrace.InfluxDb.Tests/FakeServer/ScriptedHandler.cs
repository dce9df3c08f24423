using System.IO.Compression;
using System.Net;
using System.Text;

namespace Vmtrace.InfluxDb.Tests.FakeServer;

/// <summary>An InfluxDB stand-in: answers each request with what the test's script says, and records the requests.</summary>
internal sealed class ScriptedHandler(Func<ScriptedHandler.Request, HttpResponseMessage> script) : HttpMessageHandler
{
    private readonly List<Request> _requests = [];

    /// <param name="Lines">The body's lines (ungzipped) for writes; the form for queries.</param>
    public sealed record Request(HttpMethod Method, Uri Uri, string? Authorization, IReadOnlyList<string> ContentEncoding, string[] Lines, DateTimeOffset At);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public IReadOnlyList<Request> Requests
    {
        get
        {
            lock (_requests)
                return [.. _requests];
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = "";
        var encoding = request.Content?.Headers.ContentEncoding.ToArray() ?? [];
        if (request.Content is not null)
        {
            var bytes = await request.Content.ReadAsByteArrayAsync(cancellationToken);
            if (encoding.Contains("gzip"))
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var reader = new StreamReader(gz, Encoding.UTF8);
                body = await reader.ReadToEndAsync(cancellationToken);
            }
            else
            {
                body = Encoding.UTF8.GetString(bytes);
            }
        }
        var recorded = new Request(request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), encoding,
            body.Split('\n', StringSplitOptions.RemoveEmptyEntries), Time.GetUtcNow());
        lock (_requests)
            _requests.Add(recorded);
        return script(recorded);
    }

    public static HttpResponseMessage Answer(HttpStatusCode status, string? json = null)
    {
        var response = new HttpResponseMessage(status);
        if (json is not null)
            response.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return response;
    }
}
