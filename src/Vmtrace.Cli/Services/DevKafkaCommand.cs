using System.CommandLine;
using System.Globalization;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace dev-kafka</c>: a local Kafka (librdkafka's mock cluster) with the vmtrace topics, until Ctrl-C.</summary>
internal static class DevKafkaCommand
{
    public const string Usage = """
          dev-kafka [--partitions N] [--brokers N]
              a throw-away Kafka on 127.0.0.1 (librdkafka mock cluster, a few MB per partition) with the
              vmtrace topics; prints its bootstrap servers and runs until Ctrl-C.
        """;

    public static Command Build()
    {
        var partitions = OptionValues.WholeNumber("--partitions", "partitions of the events and state topics (default 3)");
        var brokers = OptionValues.WholeNumber("--brokers", "brokers of the cluster (default 1)");
        var command = new UsageCommand("dev-kafka", Usage) { partitions, brokers };
        command.SetAction((parseResult, _) =>
        {
            long partitionCount = parseResult.GetValue(partitions) ?? 3, brokerCount = parseResult.GetValue(brokers) ?? 1;
            if (partitionCount < 1 || brokerCount < 1 || partitionCount > int.MaxValue || brokerCount > int.MaxValue)
                throw new UsageException("--partitions and --brokers must be at least 1");
            return RunAsync((int)partitionCount, (int)brokerCount, parseResult.InvocationConfiguration.Output);
        });
        return command;
    }

    private static async Task<int> RunAsync(int partitions, int brokers, TextWriter stdout)
    {
        using var cluster = new MockKafkaCluster(brokers);
        cluster.CreateVmtraceTopics(partitions);
        await stdout.WriteLineAsync(cluster.BootstrapServers).ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"# topics {KafkaTopics.Events}, {KafkaTopics.State} ({partitions} partitions), {KafkaTopics.DeadLetter}; export KAFKA_BOOTSTRAP_SERVERS={cluster.BootstrapServers}")).ConfigureAwait(false);
        await stdout.FlushAsync().ConfigureAwait(false);
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C
        }
        return 0;
    }
}
