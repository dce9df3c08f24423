using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Vmtrace.Agent;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;
using Vmtrace.Worker;

namespace Vmtrace.Observability;

/// <summary>
/// The checks of <c>/healthz</c>, chosen by the service the host runs. Agent: <c>kafka</c> (the brokers answer a
/// metadata request for the events topic) and <c>buffer</c> (the source is not waiting for buffer space). Worker:
/// <c>kafka</c>, <c>influxdb</c> (<c>/ping</c> answers, and writes go through) and <c>lag</c> (consumer lag and
/// watermark lag under their bounds). The answer is the worst of them: 200 for Healthy and Degraded, 503 for
/// Unhealthy, with a JSON body naming each check, its status and why.
/// </summary>
public sealed class ServiceHealthChecks : IDisposable
{
    private readonly List<(string Name, IHealthCheck Check)> _checks = [];
    private readonly TimeProvider _time;

    public ServiceHealthChecks(IServiceProvider services, IOptions<ObservabilityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var kafka = services.GetService<IOptions<KafkaOptions>>()?.Value;
        if (services.GetService<AgentService>() is { } agent)
        {
            if (kafka is not null)
                _checks.Add(("kafka", new KafkaHealthCheck(kafka, o.CheckTimeout)));
            _checks.Add(("buffer", new AgentBufferHealthCheck(agent.Counters)));
        }
        if (services.GetService<WorkerService>() is { } worker)
        {
            if (kafka is not null)
                _checks.Add(("kafka", new KafkaHealthCheck(kafka, o.CheckTimeout)));
            if (services.GetService<IOptions<InfluxOptions>>()?.Value is { } influx)
                _checks.Add(("influxdb", new InfluxHealthCheck(influx, worker.Counters, o.CheckTimeout)));
            _checks.Add(("lag", new WorkerLagHealthCheck(worker, o.MaxConsumerLag, o.MaxWatermarkLag)));
        }
    }

    /// <summary>The names of the checks, in the order they are reported.</summary>
    public IReadOnlyList<string> Names => [.. _checks.Select(c => c.Name)];

    /// <summary>Runs every check at once; a check that throws is Unhealthy with its message.</summary>
    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        var runs = _checks.Select(async c =>
        {
            long t = _time.GetTimestamp();
            HealthCheckResult result;
            try
            {
                result = await c.Check.CheckHealthAsync(new HealthCheckContext
                {
                    Registration = new HealthCheckRegistration(c.Name, c.Check, HealthStatus.Unhealthy, null),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                result = HealthCheckResult.Unhealthy(ex.Message, ex);
            }
            return (c.Name, Entry: new HealthReportEntry(result.Status, result.Description, _time.GetElapsedTime(t), result.Exception, result.Data));
        }).ToList();
        var entries = new Dictionary<string, HealthReportEntry>(StringComparer.Ordinal);
        foreach (var (name, entry) in await Task.WhenAll(runs).ConfigureAwait(false))
            entries[name] = entry;
        return new HealthReport(entries, _time.GetElapsedTime(started));
    }

    /// <summary>Answers <c>/healthz</c>.</summary>
    public async Task WriteAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = await CheckAsync(cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(Json(report), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The body of <c>/healthz</c>: the overall status, then each check with its status, why, and its figures.</summary>
    public static string Json(HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("status", report.Status.ToString());
            w.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
            w.WriteStartArray("checks");
            foreach (var (name, entry) in report.Entries)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("status", entry.Status.ToString());
                w.WriteString("description", entry.Description ?? "");
                w.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
                if (entry.Data.Count > 0)
                {
                    w.WriteStartObject("data");
                    foreach (var (key, value) in entry.Data)
                    {
                        w.WritePropertyName(key);
                        JsonSerializer.Serialize(w, value, value?.GetType() ?? typeof(object), HealthJsonContext.Default);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public void Dispose()
    {
        foreach (var (_, check) in _checks)
            (check as IDisposable)?.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(bool))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(object))]
internal sealed partial class HealthJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
