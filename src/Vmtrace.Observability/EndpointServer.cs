using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Vmtrace.Observability;

/// <summary>
/// A small Kestrel server of its own beside the service (the service's host is not a web host): <c>/metrics</c>
/// answers the Prometheus exporter of the service's meter provider, <c>/healthz</c> the service's health checks.
/// It starts before the service and stops after it, so the last figures can be scraped until the end.
/// </summary>
public sealed partial class EndpointServer(
    IOptions<ObservabilityOptions> options, IServiceProvider services, ServiceInstruments instruments, ServiceHealthChecks health,
    ILogger<EndpointServer> logger) : IHostedService, IAsyncDisposable, IDisposable
{
    private readonly ObservabilityOptions _options = options.Value;
    private WebApplication? _app;

    /// <summary>Where the endpoints answer, e.g. <c>http://127.0.0.1:9464</c> (the real port when 0 was asked); null before the start.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        instruments.Start();
        var meterProvider = services.GetRequiredService<MeterProvider>();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Parse(_options.Address), _options.Port ?? 0));
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider, predicate: null, path: "/metrics", configureBranchedPipeline: null, optionsName: null);
        app.Map("/healthz", branch => branch.Run(context => health.WriteAsync(context, context.RequestAborted)));
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync("vmtrace serves /metrics and /healthz\n", context.RequestAborted);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{_options.Address}:{_options.Port}";
        Address = new Uri(bound);
        Log.Serving(logger, Address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
            await app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "serving /metrics and /healthz on {Address}")]
        public static partial void Serving(ILogger logger, Uri address);
    }
}
