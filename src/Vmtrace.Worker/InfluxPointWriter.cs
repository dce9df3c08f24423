using Vmtrace.InfluxDb;

namespace Vmtrace.Worker;

/// <summary>Points to InfluxDB through <see cref="InfluxClient"/> (retries, circuit breaker, partial-write dead letters).</summary>
public sealed class InfluxPointWriter(InfluxClient client) : IPointWriter
{
    public InfluxClient Client { get; } = client;

    public Task<InfluxWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken) => Client.WriteAsync(lines, cancellationToken);
}
