using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Vmtrace.Cli;

/// <summary>
/// The generic host for the service commands: appsettings.json (or --config FILE), environment variables
/// <c>VMTRACE__SECTION__KEY</c>, then <c>--Section:Key=value</c> arguments, in that order of precedence.
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
            if (args[i] == "--config" && i + 1 < args.Length)
                configFile = args[++i];
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Contains(':', StringComparison.Ordinal))
                settings.Add(args[i]);
            else
                positional.Add(args[i]);
        }
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. settings] });
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new FileNotFoundException($"--config: '{configFile}' does not exist", configFile);
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.Configuration.AddEnvironmentVariables("VMTRACE__");
        builder.Configuration.AddCommandLine([.. settings]);
        return builder;
    }

    /// <summary>Runs the host; options that fail validation end it with exit code 2 and the list of problems.</summary>
    public static async Task<int> RunAsync(IHost host, TextWriter stderr)
    {
        try
        {
            await host.RunAsync().ConfigureAwait(false);
            return Environment.ExitCode;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await stderr.WriteLineAsync("vmtrace: invalid configuration:").ConfigureAwait(false);
            foreach (var failure in ex.Failures)
                await stderr.WriteLineAsync("  " + failure).ConfigureAwait(false);
            return 2;
        }
        finally
        {
            host.Dispose();
        }
    }
}
