using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// Records the worker cannot use go to the dead-letter topic unchanged (same key and value), with headers saying why
/// (<see cref="KafkaHeaders.DeadLetterReason"/>), where from (<see cref="KafkaHeaders.DeadLetterOrigin"/>,
/// topic/partition@offset) and the exception type; each one is counted and logged once. The partition goes on.
/// </summary>
internal sealed class KafkaDeadLetters(IProducer<string, byte[]> producer, string topic, WorkerCounters counters, ILogger logger)
{
    public void Send(ConsumeResult<string?, byte[]> cr, RecordOutcome outcome)
    {
        counters.DeadLettered++;
        string reason = outcome.Reason ?? "";
        string origin = $"{cr.Topic}/{cr.Partition.Value}@{cr.Offset.Value}";
        WorkerLog.DeadLettered(logger, cr.Topic, cr.Partition.Value, cr.Offset.Value, reason);
        var headers = new Headers
        {
            { KafkaHeaders.DeadLetterReason, Encoding.UTF8.GetBytes(reason) },
            { KafkaHeaders.DeadLetterOrigin, Encoding.UTF8.GetBytes(origin) },
            { KafkaHeaders.DeadLetterError, Encoding.UTF8.GetBytes(outcome.Error?.GetType().Name ?? "") },
        };
        producer.Produce(topic, new Message<string, byte[]> { Key = cr.Message.Key!, Value = cr.Message.Value ?? [], Headers = headers },
            report =>
            {
                if (report.Error.IsError)
                    WorkerLog.KafkaError(logger, $"dead letter of {origin} not delivered: {report.Error.Reason}", report.Error.IsFatal);
            });
    }
}
