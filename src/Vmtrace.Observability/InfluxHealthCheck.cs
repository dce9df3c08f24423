using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vmtrace.InfluxDb;
using Vmtrace.Worker;

namespace Vmtrace.Observability;

/// <summary>
/// InfluxDB is reachable: <c>/ping</c> answers within the check's timeout (Unhealthy otherwise). Reachable while the
/// worker's writes still fail (consumption paused, e.g. a missing database or a full disk) is Degraded. The probe has
/// a client of its own: it never opens the write path's circuit breaker.
/// </summary>
internal sealed class InfluxHealthCheck(InfluxOptions influx, WorkerCounters counters, TimeSpan timeout) : IHealthCheck, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = timeout };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var ping = new Uri(influx.Url.ToString().TrimEnd('/') + "/ping");
        var data = new Dictionary<string, object>
        {
            ["url"] = influx.Url.ToString(),
            ["pending_points"] = counters.PendingPoints,
            ["write_failures"] = counters.WriteFailures,
            ["consumption_paused"] = counters.ConsumptionPaused,
        };
        try
        {
            using var response = await _http.GetAsync(ping, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return HealthCheckResult.Unhealthy($"InfluxDB at {ping} answered {(int)response.StatusCode} {response.ReasonPhrase}", data: data);
        }
        catch (HttpRequestException ex)
        {
            return HealthCheckResult.Unhealthy($"InfluxDB at {ping} is unreachable: {ex.Message}", data: data);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"InfluxDB at {ping} did not answer within {timeout.TotalSeconds:0.#} s", data: data);
        }
        if (counters.ConsumptionPaused)
            return HealthCheckResult.Degraded($"InfluxDB answers /ping but does not take the writes: {counters.PendingPoints} point(s) waiting, consumption paused", data: data);
        return HealthCheckResult.Healthy("InfluxDB answers /ping", data);
    }

    public void Dispose() => _http.Dispose();
}
