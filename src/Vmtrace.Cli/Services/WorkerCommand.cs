using System.CommandLine;
using Vmtrace.Worker;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace worker</c>: Kafka → analysis → InfluxDB, crash-exact (docs/pipeline.md).</summary>
internal static class WorkerCommand
{
    public const string Usage = """
          worker [--config appsettings.json] [--Section:Key=value…]
              consume the events topic in a consumer group, analyse each host, write windows to InfluxDB;
              checkpoints make restarts exact. Settings: Kafka:*, Worker:*, Influx:* (env VMTRACE__WORKER__…).
        """;

    public static Command Build()
    {
        var service = new ServiceArguments();
        var command = service.AddTo(new UsageCommand("worker", Usage + CommandHelp.ServiceSettings));
        command.SetAction((parseResult, _) => RunAsync(service.Of(parseResult, []), parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static async Task<int> RunAsync(string[] args, TextWriter stderr)
    {
        var builder = ServiceHost.Builder(args, out var positional);
        if (positional.Count > 0)
            throw new UsageException($"worker takes no positional arguments ('{positional[0]}')");
        builder.Services.AddVmtraceWorker(builder.Configuration);
        return await ServiceHost.RunAsync(builder.Build(), stderr).ConfigureAwait(false);
    }
}
