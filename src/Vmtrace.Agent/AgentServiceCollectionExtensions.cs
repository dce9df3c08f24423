using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vmtrace.Kafka;

namespace Vmtrace.Agent;

public static class AgentServiceCollectionExtensions
{
    /// <summary>The agent: options from sections <c>Agent</c> and <c>Kafka</c> validated at start, a replay source, and <see cref="AgentService"/>.</summary>
    public static IServiceCollection AddVmtraceAgent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AgentOptions>().Bind(configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateOnStart();
        // The one clock of the agent and its sources (tests register a fake one first).
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidation>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, AgentOptionsValidation>();
        services.AddSingleton<IAgentSource>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new ReplaySource(o.Inputs, o.HostId, o.Inventory, o.SendRawCycles,
                o.Guests.Select(g => new GuestTrace(g.Key, g.Value)).ToList());
        });
        // The host waits for a stopping agent to drain its source and flush Kafka before giving up on it. Read from
        // the configuration, not IOptions<AgentOptions>: the host builds HostOptions before options are validated.
        services.Configure<HostOptions>(host =>
        {
            string? text = configuration.GetSection(AgentOptions.Section)[nameof(AgentOptions.ShutdownFlushTimeout)];
            var flush = TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero
                ? t : new AgentOptions().ShutdownFlushTimeout;
            host.ShutdownTimeout = flush + TimeSpan.FromSeconds(30);
        });
        services.AddSingleton<AgentService>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentService>());
        return services;
    }
}

internal sealed class AgentOptionsValidation : IValidateOptions<AgentOptions>, IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options) => Result(options.Problems());

    public ValidateOptionsResult Validate(string? name, KafkaOptions options) => Result(options.Problems());

    private static ValidateOptionsResult Result(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }
}
