using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Vmtrace.Observability;

namespace Vmtrace.Cli;

/// <summary>
/// The generic host for the service commands. Settings, each source overriding the ones before it: the defaults
/// (docs/configuration.md), <c>appsettings.json</c> in the working directory, <c>--config FILE</c>, environment
/// variables (<c>VMTRACE__SECTION__KEY</c>, also <c>SECTION__KEY</c>; <c>KAFKA_BOOTSTRAP_SERVERS</c> for
/// <c>Kafka:BootstrapServers</c>), then <c>--Section:Key=value</c> arguments.
/// </summary>
internal static class ServiceHost
{
    public static HostApplicationBuilder Builder(string[] args, out List<string> positional)
    {
        positional = [];
        var settings = new List<string>();
        string? configFile = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config")
            {
                if (i + 1 >= args.Length)
                    throw new UsageException("--config needs a file");
                configFile = args[++i];
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Contains(':', StringComparison.Ordinal))
            {
                if (!args[i].Contains('=', StringComparison.Ordinal))
                    throw new UsageException($"'{args[i]}' needs a value: {args[i]}=VALUE");
                settings.Add(args[i]);
            }
            else
            {
                positional.Add(args[i]);
            }
        }
        HostApplicationBuilder builder;
        try
        {
            builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        }
        catch (InvalidDataException ex)
        {
            // The host's defaults read appsettings.json of the working directory as they start.
            throw new ConfigurationProblemsException([$"appsettings.json: not valid JSON: {ex.GetBaseException().Message}"]);
        }
        // The host's default sources put the command line before a --config file; they are replaced by the documented order.
        builder.Configuration.Sources.Clear();
        AddJson(builder.Configuration, Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true, "appsettings.json");
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new FileNotFoundException($"--config: '{configFile}' does not exist", configFile);
            AddJson(builder.Configuration, Path.GetFullPath(configFile), optional: false, "--config " + configFile);
        }
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddEnvironmentVariables("VMTRACE__");
        if (Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS") is { Length: > 0 } kafka)
            builder.Configuration.AddInMemoryCollection([new("Kafka:BootstrapServers", kafka)]);
        builder.Configuration.AddCommandLine([.. settings]);
        var problems = ConfigurationCheck.Problems(builder.Configuration);
        if (problems.Count > 0)
            throw new ConfigurationProblemsException(problems);
        builder.Services.AddVmtraceEndpoints(builder.Configuration);
        return builder;
    }

    private static void AddJson(IConfigurationBuilder configuration, string path, bool optional, string name)
    {
        try
        {
            configuration.AddJsonFile(path, optional, reloadOnChange: false);
        }
        catch (InvalidDataException ex)
        {
            throw new ConfigurationProblemsException([$"{name}: not valid JSON: {ex.GetBaseException().Message}"]);
        }
        catch (FormatException ex)
        {
            throw new ConfigurationProblemsException([$"{name}: not valid JSON: {ex.Message}"]);
        }
    }

    /// <summary>
    /// Runs the host; options that fail validation end it with exit code 2 and one line per problem.
    /// <paramref name="beforeStart"/> runs once the options are valid, before the host starts: what it throws
    /// reaches the command line's one-line errors instead of the host's log.
    /// </summary>
    public static async Task<int> RunAsync(IHost host, TextWriter stderr, Action<IServiceProvider>? beforeStart = null)
    {
        try
        {
            // The options' checks run here, before the host starts: a failure there would also be logged by the host with its stack trace.
            (host.Services.GetService(typeof(Microsoft.Extensions.Options.IStartupValidator)) as Microsoft.Extensions.Options.IStartupValidator)?.Validate();
            beforeStart?.Invoke(host.Services);
            await host.RunAsync().ConfigureAwait(false);
            return Environment.ExitCode;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await WriteFailuresAsync(stderr, ex.Failures).ConfigureAwait(false);
            return 2;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is Microsoft.Extensions.Options.OptionsValidationException))
        {
            await WriteFailuresAsync(stderr, ex.InnerExceptions.SelectMany(e => ((Microsoft.Extensions.Options.OptionsValidationException)e).Failures)).ConfigureAwait(false);
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // ConfigurationCheck finds these first; this keeps any it misses to one line as well.
            await stderr.WriteLineAsync("vmtrace: invalid configuration: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
        finally
        {
            host.Dispose();
        }
    }

    private static async Task WriteFailuresAsync(TextWriter stderr, IEnumerable<string> failures)
    {
        foreach (var failure in failures)
            await stderr.WriteLineAsync("vmtrace: invalid configuration: " + failure).ConfigureAwait(false);
    }
}

/// <summary>Settings that cannot be used (unknown keys, values of the wrong type, a damaged file): one line each, exit code 2.</summary>
public sealed class ConfigurationProblemsException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
