using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Vmtrace.Agent.Live;

public static class LiveServiceCollectionExtensions
{
    /// <summary>
    /// Makes the agent trace this host: binds section <c>Live</c> (validated at start) and registers
    /// <see cref="LiveHostSource"/> as the agent's source. Call after <c>AddVmtraceAgent</c> (the last
    /// <c>IAgentSource</c> registered is the one used).
    /// </summary>
    public static IServiceCollection AddVmtraceLiveSource(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LiveOptions>().Bind(configuration.GetSection(LiveOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LiveOptions>, LiveOptionsValidation>();
        services.AddSingleton<IAgentSource>(sp =>
        {
            var live = sp.GetRequiredService<IOptions<LiveOptions>>().Value;
            // Agent:HostId names the host for a live agent too, unless Live:HostId says otherwise.
            live.HostId ??= sp.GetRequiredService<IOptions<AgentOptions>>().Value.HostId;
            return new LiveHostSource(live, sp.GetService<TimeProvider>());
        });
        return services;
    }

    private sealed class LiveOptionsValidation : IValidateOptions<LiveOptions>
    {
        public ValidateOptionsResult Validate(string? name, LiveOptions options)
        {
            var problems = options.Problems().Concat(options.HostProblems()).ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
