using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vmtrace.Agent;

namespace Vmtrace.Observability;

/// <summary>
/// The agent keeps up: Degraded while its source waits for buffer space (Kafka slower than the trace, or down: events
/// are delayed, not lost), Unhealthy once Kafka refused a record for good (the agent stops at the first).
/// </summary>
internal sealed class AgentBufferHealthCheck(AgentCounters counters) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        long buffered = counters.BufferedBytes, capacity = counters.BufferCapacityBytes;
        var data = new Dictionary<string, object>
        {
            ["buffered_records"] = counters.BufferedRecords,
            ["buffered_bytes"] = buffered,
            ["buffer_capacity_bytes"] = capacity,
            ["source_blocked"] = counters.SourceBlocked,
            ["delivery_errors"] = counters.DeliveryErrors,
        };
        string state = $"{counters.BufferedRecords} record(s), {buffered / 1024} KiB of {capacity / 1024} KiB buffered";
        if (counters.DeliveryErrors > 0)
            return Task.FromResult(HealthCheckResult.Unhealthy($"Kafka refused {counters.DeliveryErrors} record(s) after its retries; {state}", data: data));
        if (counters.SourceBlocked)
            return Task.FromResult(HealthCheckResult.Degraded($"the source waits for buffer space (Kafka slow or down); {state}", data: data));
        return Task.FromResult(HealthCheckResult.Healthy(state, data));
    }
}
