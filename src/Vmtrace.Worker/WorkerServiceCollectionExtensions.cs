using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// The worker: options bound from sections <c>Kafka</c>, <c>Worker</c>, <c>Influx</c> and validated at start,
    /// an <see cref="InfluxClient"/>, the worker's <see cref="WorkerCounters"/>, the clock (<see cref="TimeProvider.System"/>
    /// unless one is registered already), and the <see cref="WorkerService"/> hosted service.
    /// </summary>
    public static IServiceCollection AddVmtraceWorker(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateOnStart();
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section)).ValidateOnStart();
        services.AddOptions<InfluxOptions>().Bind(configuration.GetSection("Influx")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidation>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, WorkerOptionsValidation>();
        services.AddSingleton<IValidateOptions<InfluxOptions>, WorkerOptionsValidation>();
        services.AddSingleton<IDeadLetterSink>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WorkerOptions>>().Value;
            return new FileDeadLetterSink(o.DeadLetterDirectory, o.DeadLetterMaxMiB * 1024L * 1024L, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => new InfluxClient(sp.GetRequiredService<IOptions<InfluxOptions>>().Value,
            time: sp.GetRequiredService<TimeProvider>(), deadLetters: sp.GetRequiredService<IDeadLetterSink>(), logger: sp.GetRequiredService<ILogger<InfluxClient>>()));
        services.AddSingleton<IPointWriter>(sp => new InfluxPointWriter(sp.GetRequiredService<InfluxClient>()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<WorkerCounters>();
        services.AddSingleton<WorkerService>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerService>());
        return services;
    }
}
