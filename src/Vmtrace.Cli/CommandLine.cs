using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>Dispatches <c>vmtrace COMMAND …</c>. Exit codes: 0 ok, 1 bad input, 2 usage.</summary>
public static class CommandLine
{
    public const string Usage = """
        usage: vmtrace COMMAND [options]

        commands:
          dump <trace> [--stats] [--limit N] [--no-progress]
              one line per event (time, cpu, tid, name, fields); --stats prints counts per event name
              and lost events instead. A trace is a CTF directory, a trace-cmd trace.dat, a qemu trace
              log, a Trace Compass XML stub, or an .xz/.tar.xz of one.
        """ + "\n" + AnalyzeCommand.Usage + "\n" + InfluxCommand.Usage + "\n" + RecordCommand.Usage + "\n" + AgentCommand.Usage + "\n" + WorkerCommand.Usage + "\n" + DevKafkaCommand.Usage;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await stdout.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
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
