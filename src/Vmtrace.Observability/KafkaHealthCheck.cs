using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vmtrace.Kafka;

namespace Vmtrace.Observability;

/// <summary>Kafka is reachable: a broker answers a metadata request for the events topic within the check's timeout, and the topic has partitions.</summary>
internal sealed class KafkaHealthCheck(KafkaOptions kafka, TimeSpan timeout) : IHealthCheck, IDisposable
{
    private readonly Lock _lock = new();
    private IAdminClient? _admin;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.Run(Probe, cancellationToken);

    private HealthCheckResult Probe()
    {
        var data = new Dictionary<string, object> { ["bootstrap_servers"] = kafka.EffectiveBootstrapServers, ["topic"] = kafka.EventsTopic };
        try
        {
            var metadata = Admin().GetMetadata(kafka.EventsTopic, timeout);
            var topic = metadata.Topics.FirstOrDefault(t => t.Topic == kafka.EventsTopic);
            data["brokers"] = (long)metadata.Brokers.Count;
            if (topic is null || topic.Error.IsError)
                return HealthCheckResult.Unhealthy($"Kafka answers, but topic {kafka.EventsTopic}: {topic?.Error.Reason ?? "not in the answer"}", data: data);
            data["partitions"] = (long)topic.Partitions.Count;
            return HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s) answer; topic {kafka.EventsTopic} has {topic.Partitions.Count} partition(s)", data);
        }
        catch (KafkaException ex)
        {
            return HealthCheckResult.Unhealthy($"Kafka at {kafka.EffectiveBootstrapServers} did not answer within {timeout.TotalSeconds:0.#} s: {ex.Error.Reason}", data: data);
        }
    }

    /// <summary>One client for every probe (not one per request); its connection errors are this check's answer, not log lines.</summary>
    private IAdminClient Admin()
    {
        lock (_lock)
        {
            return _admin ??= new AdminClientBuilder(kafka.Apply(new AdminClientConfig { SocketTimeoutMs = (int)Math.Max(10, timeout.TotalMilliseconds) }))
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _admin?.Dispose();
            _admin = null;
        }
    }
}
