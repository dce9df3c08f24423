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

    public static async Task<int> RunAsync(string[] args, TextWriter stdout)
    {
        var o = new Options(args, new HashSet<string>(), new HashSet<string> { "--partitions", "--brokers" });
        int partitions = (int)(o.Long("--partitions") ?? 3);
        int brokers = (int)(o.Long("--brokers") ?? 1);
        if (partitions < 1 || brokers < 1)
            throw new UsageException("--partitions and --brokers must be at least 1");
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
