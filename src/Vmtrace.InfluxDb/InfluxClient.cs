using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Vmtrace.InfluxDb;

/// <summary>
/// InfluxDB's v1 HTTP API (<c>/write</c>, <c>/query</c>, <c>/ping</c>), served by InfluxDB 1.x, by 2.x's
/// compatibility API and by 3.x. <see cref="WriteAsync"/> completes only once InfluxDB acknowledged every
/// line (stored, or rejected and dead-lettered), so a caller may commit its input offsets after it.
/// Thread-safe; one instance per server.
/// </summary>
public sealed partial class InfluxClient : IDisposable
{
    private readonly InfluxOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly IDeadLetterSink _deadLetters;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly Uri _writeUri;
    private readonly Uri _queryUri;

    /// <param name="handler">HTTP handler to use (tests script one); null uses a pooled <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="deadLetters">Receives the lines InfluxDB rejected; null keeps them in memory only as a count and a log line.</param>
    public InfluxClient(InfluxOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null,
        IDeadLetterSink? deadLetters = null, ILogger<InfluxClient>? logger = null)
    {
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _deadLetters = deadLetters ?? new InMemoryDeadLetterSink();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _ownsHttp = true;
        // The pipeline's per-attempt timeout bounds each call; HttpClient's own must not cut retries short.
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        _pipeline = InfluxResilience.Build(options, _time, Counters);
        string baseUrl = options.Url.ToString().TrimEnd('/');
        var write = new StringBuilder(baseUrl).Append("/write?db=").Append(Uri.EscapeDataString(options.Database));
        if (!string.IsNullOrEmpty(options.RetentionPolicy))
            write.Append("&rp=").Append(Uri.EscapeDataString(options.RetentionPolicy));
        write.Append("&precision=ns");
        _writeUri = new Uri(write.ToString());
        _queryUri = new Uri(baseUrl + "/query");
    }

    public InfluxWriteCounters Counters { get; } = new();

    public InfluxOptions Options => _options;

    /// <summary>
    /// Writes <paramref name="lines"/> (line protocol, one point per string, no newline), in requests of at most
    /// <see cref="InfluxOptions.MaxLinesPerRequest"/> lines. Returns once all were acknowledged; lines InfluxDB
    /// rejected (400 partial write) are dead-lettered, not retried. Throws <see cref="InfluxWriteException"/>
    /// when a request failed for good (retries spent, circuit open, 4xx other than 400/413).
    /// </summary>
    public async Task<InfluxWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken = default)
    {
        long started = _time.GetTimestamp();
        var total = new InfluxWriteResult(0, 0, 0);
        // Copied once so that each request is a slice, not a copy.
        var all = lines.Count <= _options.MaxLinesPerRequest || lines is string[] ? lines : lines.ToArray();
        try
        {
            for (int offset = 0; offset < all.Count; offset += _options.MaxLinesPerRequest)
            {
                int count = Math.Min(_options.MaxLinesPerRequest, all.Count - offset);
                var chunk = count == all.Count ? all : Slice(all, offset, count);
                total += await WriteChunkAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (InfluxWriteException)
        {
            Counters.Failed();
            throw;
        }
        Counters.Acknowledged(_time.GetElapsedTime(started));
        return total;
    }

    private async Task<InfluxWriteResult> WriteChunkAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0)
            return new InfluxWriteResult(0, 0, 0);
        byte[] body = Body(lines);
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, _writeUri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
            if (_options.Gzip)
                request.Content.Headers.ContentEncoding.Add("gzip");
            Counters.RequestSent(body.Length);
            return request;
        }, "write to", _writeUri, isWrite: true, cancellationToken).ConfigureAwait(false);

        int status = (int)response.StatusCode;
        if (status is 200 or 204)
        {
            Counters.PointsWritten(lines.Count);
            return new InfluxWriteResult(lines.Count, 0, 0);
        }
        string answer = await ErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
            return await SplitAsync(lines, answer, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.BadRequest && PartialWriteAnswer.IsPartialWrite(answer))
            return await PartialWriteAsync(lines, answer, cancellationToken).ConfigureAwait(false);
        throw new InfluxWriteException(
            $"InfluxDB at {_writeUri} refused the write of {lines.Count} lines with {status} {response.ReasonPhrase}: {answer}", status);
    }

    /// <summary>413: the request is larger than the server takes, so send each half on its own.</summary>
    private async Task<InfluxWriteResult> SplitAsync(IReadOnlyList<string> lines, string answer, CancellationToken cancellationToken)
    {
        if (lines.Count == 1)
        {
            await DeadLetterAsync([new DeadLetter(lines[0], "request too large even as a single line (413): " + answer)], 0, cancellationToken).ConfigureAwait(false);
            return new InfluxWriteResult(0, 1, 0);
        }
        Counters.Split();
        int half = lines.Count / 2;
        var first = await WriteChunkAsync(Slice(lines, 0, half), cancellationToken).ConfigureAwait(false);
        var second = await WriteChunkAsync(Slice(lines, half, lines.Count - half), cancellationToken).ConfigureAwait(false);
        return first + second;
    }

    /// <summary>400 partial write: the valid lines are stored; dead-letter exactly the rejected ones, never resend.</summary>
    private async Task<InfluxWriteResult> PartialWriteAsync(IReadOnlyList<string> lines, string answer, CancellationToken cancellationToken)
    {
        var (rejected, unidentified) = PartialWriteAnswer.Match(answer, lines);
        if (PartialWriteAnswer.IsBeyondRetention(answer))
        {
            // Not a rejection of the lines' content: InfluxDB keeps nothing older than the policy's duration.
            Counters.DroppedByRetention(unidentified);
            await LogRetentionOnceAsync(unidentified, answer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
                LogPartialWrite(_logger, _writeUri, lines.Count, rejected.Count, unidentified, answer);
        }
        await DeadLetterAsync(rejected, unidentified, cancellationToken).ConfigureAwait(false);
        int stored = Math.Max(0, lines.Count - rejected.Count - unidentified);
        Counters.PointsWritten(stored);
        return new InfluxWriteResult(stored, rejected.Count, unidentified);
    }

    private int _retentionLogged;

    /// <summary>
    /// The first time points are dropped for being older than the retention policy, one warning with the cut-off
    /// (now minus the policy's duration, from <c>SHOW RETENTION POLICIES</c>); later drops are only counted.
    /// </summary>
    private async Task LogRetentionOnceAsync(int dropped, string answer, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _retentionLogged, 1) != 0)
            return;
        string policy = string.IsNullOrEmpty(_options.RetentionPolicy) ? "(default)" : _options.RetentionPolicy;
        string cutOff = "unknown";
        try
        {
            var policies = await QueryAsync($"SHOW RETENTION POLICIES ON {InfluxQl.Identifier(_options.Database)}", cancellationToken).ConfigureAwait(false);
            foreach (var series in policies.Series)
            {
                var columns = series.Columns.ToList();
                int name = columns.IndexOf("name"), duration = columns.IndexOf("duration"), isDefault = columns.IndexOf("default");
                foreach (var row in series.Values)
                {
                    bool match = string.IsNullOrEmpty(_options.RetentionPolicy)
                        ? row[isDefault].ValueKind == JsonValueKind.True
                        : row[name].GetString() == _options.RetentionPolicy;
                    if (match)
                    {
                        var d = Bootstrap.GoDuration.Parse(row[duration].GetString() ?? "0s");
                        policy = $"{row[name].GetString()} ({row[duration].GetString()})";
                        cutOff = d == TimeSpan.Zero ? "none (infinite)" : (_time.GetUtcNow() - d).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is InfluxException or FormatException)
        {
            // The warning still goes out, without the cut-off.
        }
        LogBeyondRetention(_logger, dropped, policy, cutOff, _options.Database, answer);
    }

    private async Task DeadLetterAsync(IReadOnlyList<DeadLetter> letters, int unidentified, CancellationToken cancellationToken)
    {
        if (letters.Count > 0)
        {
            await _deadLetters.WriteAsync(letters, cancellationToken).ConfigureAwait(false);
            Counters.DeadLettered(letters.Count);
        }
        if (unidentified > 0)
            Counters.UnidentifiedDropped(unidentified);
    }

    /// <summary>
    /// Runs one InfluxQL query (several statements may be separated by ';') with a POST to <c>/query</c>. A statement
    /// error inside a 200 answer (<c>results[i].error</c>) or a top-level <c>error</c> becomes an
    /// <see cref="InfluxQueryException"/> naming the statement.
    /// </summary>
    public async Task<InfluxQueryResult> QueryAsync(string query, CancellationToken cancellationToken = default)
    {
        var form = new List<KeyValuePair<string, string>> { new("q", query), new("db", _options.Database) };
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, _queryUri) { Content = new FormUrlEncodedContent(form) },
            "query", _queryUri, isWrite: false, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string message = TryErrorField(text) ?? text.Trim();
            throw new InfluxQueryException(
                $"InfluxDB at {_queryUri} refused the query '{query}' with {(int)response.StatusCode} {response.ReasonPhrase}: {message}", query);
        }
        return InfluxQueryResult.Parse(text, query, _queryUri);
    }

    /// <summary>Checks that the server answers <c>/ping</c>; returns its version header when it sends one.</summary>
    public async Task<string?> PingAsync(CancellationToken cancellationToken = default)
    {
        var uri = new Uri(_options.Url.ToString().TrimEnd('/') + "/ping");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), "ping", uri, isWrite: false, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InfluxException($"InfluxDB at {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        return response.Headers.TryGetValues("X-Influxdb-Version", out var values) ? values.FirstOrDefault() : null;
    }

    /// <summary>Sends through the resilience pipeline; turns what is left after retries into an error naming the URL.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> makeRequest, string what, Uri uri, bool isWrite, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                using var request = makeRequest();
                Authorize(request);
                return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Failure(isWrite, $"cannot {what} InfluxDB at {uri}: {ex.Message} (after {_options.MaxRetries} retries)", ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw Failure(isWrite, $"InfluxDB at {uri} did not answer within {_options.AttemptTimeout.TotalSeconds:0.#} s (after {_options.MaxRetries} retries)", ex);
        }
        catch (BrokenCircuitException ex)
        {
            throw Failure(isWrite, $"InfluxDB at {uri} is failing: circuit open, not sending ({ex.Message})", ex);
        }
    }

    private static InfluxException Failure(bool isWrite, string message, Exception inner) =>
        isWrite ? new InfluxWriteException(message, null, inner) : new InfluxException(message, inner);

    private void Authorize(HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(_options.Token))
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", _options.Token);
        else if (!string.IsNullOrEmpty(_options.Username))
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(_options.Username + ":" + (_options.Password ?? ""))));
    }

    private byte[] Body(IReadOnlyList<string> lines)
    {
        var raw = new MemoryStream();
        Stream sink = _options.Gzip ? new GZipStream(raw, CompressionLevel.Fastest, leaveOpen: true) : raw;
        using (var writer = new StreamWriter(sink, new UTF8Encoding(false), 64 * 1024, leaveOpen: true))
        {
            foreach (string line in lines)
            {
                writer.Write(line.AsSpan().TrimEnd('\n'));
                writer.Write('\n');
            }
        }
        if (_options.Gzip)
            sink.Dispose();
        return raw.ToArray();
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return TryErrorField(text) ?? text.Trim();
    }

    /// <summary>1.x and 3.x answer <c>{"error": "…"}</c>; 2.x answers <c>{"code": "…", "message": "…"}</c>.</summary>
    internal static string? TryErrorField(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return null;
            if (doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                return error.GetString();
            if (doc.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                return message.GetString();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IReadOnlyList<string> Slice(IReadOnlyList<string> lines, int offset, int count) =>
        lines is string[] array ? new ArraySegment<string>(array, offset, count) : lines.Skip(offset).Take(count).ToArray();

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDB dropped {Dropped} point(s) older than retention policy {Policy} of database {Database}: nothing before {CutOff} is kept (counted as dropped_by_retention; logged once). Replay shifted to now (Agent:Replay:ShiftToNow=true) or create the database with a longer raw policy (vmtrace influx init --raw …). Answer: {Answer}")]
    private static partial void LogBeyondRetention(ILogger logger, int dropped, string policy, string cutOff, string database, string answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "InfluxDB at {Uri} stored a partial write: {Rejected} of {Lines} lines rejected and dead-lettered, {Unidentified} more dropped unnamed: {Answer}")]
    private static partial void LogPartialWrite(ILogger logger, Uri uri, int lines, int rejected, int unidentified, string answer);

    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }
}

/// <summary>What became of the lines of one write.</summary>
/// <param name="Stored">Lines InfluxDB stored.</param>
/// <param name="DeadLettered">Lines it rejected by name (or that were too large to send), handed to the dead-letter sink.</param>
/// <param name="UnidentifiedDropped">Lines a partial write dropped without naming them
/// (<see cref="InfluxWriteStats.DroppedByRetention"/> counts those dropped for being older than the retention policy.)</param>
public readonly record struct InfluxWriteResult(int Stored, int DeadLettered, int UnidentifiedDropped)
{
    public static InfluxWriteResult operator +(InfluxWriteResult a, InfluxWriteResult b) =>
        new(a.Stored + b.Stored, a.DeadLettered + b.DeadLettered, a.UnidentifiedDropped + b.UnidentifiedDropped);
}
