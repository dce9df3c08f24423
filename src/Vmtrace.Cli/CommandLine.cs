using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>Dispatches <c>vmtrace COMMAND …</c>. Exit codes: 0 ok, 1 bad input, 2 usage.</summary>
public static class CommandLine
{
    public const string Usage = """
        usage: vmtrace COMMAND [options]      (vmtrace COMMAND --help: that command alone; vmtrace --version)

        commands:
        """ + "\n" + DumpUsage + "\n" + AnalyzeCommand.Usage + "\n" + InfluxCommand.Usage + "\n" + RecordCommand.Usage + "\n" + AgentCommand.Usage + "\n" + WorkerCommand.Usage + "\n" + DevKafkaCommand.Usage;

    public const string DumpUsage = """
          dump <trace> [--stats] [--limit N] [--no-progress]
              one line per event (time, cpu, tid, name, fields); --stats prints counts per event name
              and lost events instead. A trace is a CTF directory, a trace-cmd trace.dat, a qemu trace
              log, a Trace Compass XML stub, or an .xz/.tar.xz of one.
        """;

    private const string ServiceSettingsUsage = """

          settings (every one in docs/configuration.md), each source overriding the ones before it:
              defaults < appsettings.json (working directory) < --config FILE < environment (VMTRACE__SECTION__KEY,
              KAFKA_BOOTSTRAP_SERVERS) < --Section:Key=value. An unknown key or a value of the wrong type: exit 2.
        """;

    /// <summary>The usage text of each command, printed by <c>vmtrace COMMAND --help</c>.</summary>
    private static readonly Dictionary<string, string> s_commandUsage = new(StringComparer.Ordinal)
    {
        ["dump"] = DumpUsage,
        ["analyze"] = AnalyzeCommand.Usage,
        ["influx"] = InfluxCommand.Usage,
        ["record"] = RecordCommand.Usage,
        ["agent"] = AgentCommand.Usage + ServiceSettingsUsage,
        ["worker"] = WorkerCommand.Usage + ServiceSettingsUsage,
        ["dev-kafka"] = DevKafkaCommand.Usage,
    };

    /// <summary>The informational version (with the git commit it was built from, after '+').</summary>
    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            if (args.Length > 1 && s_commandUsage.TryGetValue(args[1], out var commandUsage))
            {
                await stdout.WriteLineAsync("usage: vmtrace" + Environment.NewLine + commandUsage);
                return 0;
            }
            await stdout.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version" or "version")
        {
            await stdout.WriteLineAsync("vmtrace " + Version);
            return 0;
        }
        if (args.Length > 1 && args.Skip(1).Any(a => a is "--help" or "-h") && s_commandUsage.TryGetValue(args[0], out var usage))
        {
            await stdout.WriteLineAsync("usage: vmtrace" + Environment.NewLine + usage);
            return 0;
        }
        try
        {
            return args[0] switch
            {
                "dump" => DumpCommand.Run(args[1..], stdout, stderr),
                "analyze" => AnalyzeCommand.Run(args[1..], stdout, stderr),
                "influx" => await InfluxCommand.RunAsync(args[1..], stdout, stderr),
                "record" => await RecordCommand.RunAsync(args[1..], stdout, stderr),
                "agent" => await AgentCommand.RunAsync(args[1..], stderr),
                "worker" => await WorkerCommand.RunAsync(args[1..], stderr),
                "dev-kafka" => await DevKafkaCommand.RunAsync(args[1..], stdout),
                _ => UsageError(stderr, $"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException ex)
        {
            return UsageError(stderr, ex.Message);
        }
        catch (InconsistentInputsException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}");
            return 1;
        }
        catch (Vmtrace.Agent.RawCyclesInputException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}");
            return 1;
        }
        catch (ConfigurationProblemsException ex)
        {
            foreach (string problem in ex.Problems)
                await stderr.WriteLineAsync($"vmtrace: {problem}");
            return 2;
        }
        catch (TraceFormatException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}");
            return 1;
        }
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"vmtrace: {message}");
        stderr.WriteLine(Usage);
        return 2;
    }
}

/// <summary>A command line that does not parse.</summary>
public sealed class UsageException(string message) : Exception(message);
