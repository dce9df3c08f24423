namespace Vmtrace.InfluxDb;

/// <summary>InfluxDB refused or could not be reached; the message names the URL and what the server said.</summary>
public class InfluxException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A write that was not acknowledged: nothing of the failed request may be assumed stored.</summary>
public sealed class InfluxWriteException(string message, int? statusCode = null, Exception? inner = null)
    : InfluxException(message, inner)
{
    /// <summary>HTTP status of the last answer, or null when there was none (connection error, open circuit).</summary>
    public int? StatusCode { get; } = statusCode;
}

/// <summary>A query the server rejected, or a statement in it that failed (InfluxDB answers those with 200).</summary>
public sealed class InfluxQueryException(string message, string query, Exception? inner = null)
    : InfluxException(message, inner)
{
    public string Query { get; } = query;
}
