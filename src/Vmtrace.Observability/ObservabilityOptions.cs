using System.Net;

namespace Vmtrace.Observability;

/// <summary>
/// Section <c>Observability</c>: where the service serves <c>/metrics</c> (Prometheus text) and <c>/healthz</c>
/// (JSON), and the bounds the health checks apply. The endpoints are off unless <see cref="Port"/> is set.
/// </summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>TCP port of <c>/metrics</c> and <c>/healthz</c>; unset: no endpoint (and no port) at all; 0: any free port.</summary>
    public int? Port { get; set; }

    /// <summary>IP address the endpoints listen on.</summary>
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>Worker: records behind the end of its partitions (consumer lag) above which <c>/healthz</c> says Degraded.</summary>
    public long MaxConsumerLag { get; set; } = 100_000;

    /// <summary>Worker: event time between the newest event and the newest closed window above which <c>/healthz</c> says Degraded.</summary>
    public TimeSpan MaxWatermarkLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a probe of Kafka or InfluxDB may take before <c>/healthz</c> calls it unreachable.</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Problems with these options, empty when usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535)
            yield return $"Observability:Port {Port} is not a TCP port (0..65535; 0 picks a free one; leave it unset for no endpoint)";
        if (!IPAddress.TryParse(Address, out _))
            yield return $"Observability:Address '{Address}' is not an IP address (e.g. 0.0.0.0 for every interface, 127.0.0.1 for this machine only)";
        if (MaxConsumerLag < 0)
            yield return $"Observability:MaxConsumerLag {MaxConsumerLag} is negative";
        if (MaxWatermarkLag <= TimeSpan.Zero)
            yield return $"Observability:MaxWatermarkLag {MaxWatermarkLag} must be positive";
        if (CheckTimeout <= TimeSpan.Zero)
            yield return $"Observability:CheckTimeout {CheckTimeout} must be positive";
    }
}
