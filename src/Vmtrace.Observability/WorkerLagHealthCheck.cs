using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vmtrace.Worker;

namespace Vmtrace.Observability;

/// <summary>
/// The worker keeps up: Degraded when its consumer lag (records behind the end of its partitions, as of the last health
/// report) or its watermark lag (event time between the newest event and the newest closed window) is above its bound.
/// </summary>
internal sealed class WorkerLagHealthCheck(WorkerService worker, long maxConsumerLag, TimeSpan maxWatermarkLag) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        long consumerLag = worker.ConsumerLag;
        var watermarkLag = TimeSpan.FromTicks(worker.Counters.WatermarkLagNs / 100);
        var data = new Dictionary<string, object>
        {
            ["consumer_lag"] = consumerLag,
            ["max_consumer_lag"] = maxConsumerLag,
            ["watermark_lag_seconds"] = watermarkLag.TotalSeconds,
            ["max_watermark_lag_seconds"] = maxWatermarkLag.TotalSeconds,
        };
        var over = new List<string>();
        if (consumerLag > maxConsumerLag)
            over.Add($"consumer lag {consumerLag} record(s) is above Observability:MaxConsumerLag {maxConsumerLag}");
        if (watermarkLag > maxWatermarkLag)
            over.Add($"watermark lag {watermarkLag.TotalSeconds:0.###} s is above Observability:MaxWatermarkLag {maxWatermarkLag:c}");
        return Task.FromResult(over.Count > 0
            ? HealthCheckResult.Degraded(string.Join("; ", over), data: data)
            : HealthCheckResult.Healthy($"consumer lag {consumerLag} record(s), watermark lag {watermarkLag.TotalSeconds:0.###} s", data));
    }
}
