namespace Vmtrace.InfluxDb;

/// <summary>Where InfluxDB is and how to talk to it. Defaults suit a local InfluxDB 1.x.</summary>
public sealed class InfluxOptions
{
    /// <summary>Base address of the HTTP API, e.g. <c>http://127.0.0.1:8086</c>. 1.x, 2.x (compatibility API) and 3.x all serve <c>/write</c> and <c>/query</c> there.</summary>
    public Uri Url { get; set; } = new("http://127.0.0.1:8086");

    /// <summary>Database (1.x), or the database/bucket name mapped by the 2.x DBRP mapping, or the 3.x database.</summary>
    public string Database { get; set; } = "vmtrace";

    /// <summary>Retention policy written to (<c>rp=</c>); null writes to the database's default policy.</summary>
    public string? RetentionPolicy { get; set; } = "raw";

    /// <summary>2.x/3.x API token, sent as <c>Authorization: Token …</c>. Null for an open 1.x server.</summary>
    public string? Token { get; set; }

    /// <summary>1.x user (HTTP Basic authentication) when <see cref="Token"/> is not set.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Compress write bodies (<c>Content-Encoding: gzip</c>). Line protocol compresses about tenfold.</summary>
    public bool Gzip { get; set; } = true;

    /// <summary>Most lines sent in one request; larger writes are split. InfluxDB recommends 5,000–10,000.</summary>
    public int MaxLinesPerRequest { get; set; } = 5000;

    /// <summary>Timeout of one HTTP attempt (the retries come on top).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt on 429, 5xx, timeouts and connection errors. Other 4xx are never retried.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First back-off delay; it doubles per retry, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A server's <c>Retry-After</c> is honoured up to this long (a larger one is clamped to it).</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The circuit opens when this share of the attempts in <see cref="CircuitSamplingDuration"/> failed…</summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>…and at least this many attempts were made there.</summary>
    public int CircuitMinimumThroughput { get; set; } = 10;

    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails calls at once before one trial call is let through.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    internal void Validate()
    {
        if (!Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"InfluxDB URL must be an absolute http(s) address: '{Url}'");
        if (string.IsNullOrWhiteSpace(Database))
            throw new ArgumentException("InfluxDB database name is empty");
        if (MaxLinesPerRequest < 1)
            throw new ArgumentException($"MaxLinesPerRequest must be at least 1, not {MaxLinesPerRequest}");
        if (MaxRetries < 0)
            throw new ArgumentException($"MaxRetries must not be negative, not {MaxRetries}");
        if (CircuitMinimumThroughput < 2)
            throw new ArgumentException($"CircuitMinimumThroughput must be at least 2, not {CircuitMinimumThroughput}");
    }
}
