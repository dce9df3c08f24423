using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Vmtrace.Observability;

public static class ObservabilityServiceCollectionExtensions
{
    /// <summary>
    /// <c>/metrics</c> and <c>/healthz</c> for whichever service the host runs (agent or worker: the instruments and
    /// checks are chosen by the services registered), on <c>Observability:Address</c> and <c>Observability:Port</c>.
    /// Without <c>Observability:Port</c> only the options are bound and checked: no listener, no meter provider.
    /// </summary>
    public static IServiceCollection AddVmtraceEndpoints(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ObservabilityOptions.Section);
        services.AddOptions<ObservabilityOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ObservabilityOptions>, ObservabilityOptionsValidation>();
        if (string.IsNullOrWhiteSpace(section[nameof(ObservabilityOptions.Port)]))
            return services;

        // A meter name of this host's own: a meter provider listens to every meter of that name in the process, and
        // another host in the same process (tests run agent and worker side by side) must not show up here.
        var meterName = new InstrumentsMeterName(ServiceInstruments.MeterPrefix + Guid.NewGuid().ToString("N"));
        services.AddSingleton(meterName);
        services.AddSingleton<ServiceInstruments>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(meterName.Name)
            .AddPrometheusExporter(prometheus =>
            {
                // Every scrape reads the counters as they are now (the default caches the answer for 300 ms).
                prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                prometheus.ScopeInfoEnabled = false;
            }));
        services.AddSingleton<ServiceHealthChecks>();
        services.AddSingleton<EndpointServer>();
        services.AddHostedService(sp => sp.GetRequiredService<EndpointServer>());
        return services;
    }
}

/// <summary>The name of the meter of one host's instruments.</summary>
public sealed record InstrumentsMeterName(string Name);

internal sealed class ObservabilityOptionsValidation : IValidateOptions<ObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, ObservabilityOptions options)
    {
        var problems = options.Problems().ToList();
        if (problems.Count == 0 && options.Port is > 0 and int port && PortTaken(IPAddress.Parse(options.Address), port) is { } why)
            problems.Add($"Observability:Port {port} on {options.Address}: {why} (another program listens there: choose another port, or leave Observability:Port unset)");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>
    /// Binds the port for a moment before anything starts: a port in use is then one line at start, like any other
    /// setting that cannot be used, instead of a failure of the listener once the service runs.
    /// </summary>
    private static string? PortTaken(IPAddress address, int port)
    {
        try
        {
            var probe = new TcpListener(address, port);
            probe.Start();
            probe.Stop();
            return null;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? "address already in use" : ex.Message;
        }
    }
}
