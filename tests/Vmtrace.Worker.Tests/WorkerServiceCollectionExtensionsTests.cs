using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.Worker.Tests;

/// <summary>The worker's counters and clock are services: the health endpoints read the very counters the worker writes.</summary>
public class WorkerServiceCollectionExtensionsTests
{
    private static ServiceProvider Services(Action<IServiceCollection>? before = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "127.0.0.1:9092",
            ["Influx:Url"] = "http://127.0.0.1:8086",
            ["Worker:DeadLetterDirectory"] = Path.Combine(Path.GetTempPath(), "vmtrace-worker-di-test"),
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        before?.Invoke(services);
        services.AddVmtraceWorker(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddVmtraceWorker_CountersAreOneSingletonSharedWithTheService_ClockIsTheSystemOne()
    {
        using var sp = Services();

        var counters = sp.GetRequiredService<WorkerCounters>();
        Assert.Same(counters, sp.GetRequiredService<WorkerService>().Counters);
        Assert.Same(TimeProvider.System, sp.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void AddVmtraceWorker_ClockRegisteredBefore_IsKept()
    {
        var fake = new FakeTimeProvider();
        using var sp = Services(s => s.AddSingleton<TimeProvider>(fake));

        Assert.Same(fake, sp.GetRequiredService<TimeProvider>());
    }
}
