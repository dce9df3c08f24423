using Vmtrace.InfluxDb;

namespace Vmtrace.Worker;

/// <summary>Points to InfluxDB through <see cref="InfluxClient"/> (retries, circuit breaker, partial-write dead letters).</summary>
public sealed class InfluxPointWriter(InfluxClient client) : IPointWriter
{
    public InfluxClient Client { get; } = client;

    /// <remarks>Not for concurrent calls: the retention drops of this write are the growth of the client's counter.</remarks>
    public async Task<PointWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        long retentionBefore = Client.Counters.Snapshot().DroppedByRetention;
        var result = await Client.WriteAsync(lines, cancellationToken).ConfigureAwait(false);
        int retention = (int)(Client.Counters.Snapshot().DroppedByRetention - retentionBefore);
        return new PointWriteResult(result.Stored, result.DeadLettered + result.UnidentifiedDropped - retention, retention);
    }
}
