using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>Where records the worker cannot use go (<see cref="KafkaDeadLetters"/>: the dead-letter topic).</summary>
internal interface IRecordDeadLetters
{
    void Send(ConsumeResult<string?, byte[]> record, RecordOutcome outcome);

    /// <summary>Waits until every dead letter sent so far is delivered or has failed: a checkpoint must not move past a record whose dead letter is still in memory.</summary>
    void Flush();
}

/// <summary>
/// Records the worker cannot use go to the dead-letter topic unchanged (same key and value), with headers saying why
/// (<see cref="KafkaHeaders.DeadLetterReason"/>), where from (<see cref="KafkaHeaders.DeadLetterOrigin"/>,
/// topic/partition@offset) and the exception type; each one is counted and logged once. The partition goes on.
/// Bounded: at most <paramref name="bound"/> dead letters wait for their delivery report; past it a new one waits up
/// to <paramref name="slotWait"/> for a delivery, then is dropped (the record stays in the events topic), counted in
/// <see cref="WorkerCounters.DeadLettersDropped"/> and logged. Failed deliveries count in
/// <see cref="WorkerCounters.DeadLettersUndelivered"/>.
/// </summary>
internal sealed class KafkaDeadLetters(IProducer<string, byte[]> producer, string topic, int bound, TimeSpan slotWait,
    WorkerCounters counters, ILogger logger, TimeProvider time) : IRecordDeadLetters
{
    private static readonly TimeSpan s_flushTimeout = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _slots = new(bound, bound);

    /// <summary>Dead letters produced and not yet reported delivered or failed.</summary>
    public int InFlight => bound - _slots.CurrentCount;

    public void Send(ConsumeResult<string?, byte[]> record, RecordOutcome outcome)
    {
        counters.DeadLettered++;
        string reason = outcome.Reason ?? "";
        string origin = $"{record.Topic}/{record.Partition.Value}@{record.Offset.Value}";
        WorkerLog.DeadLettered(logger, record.Topic, record.Partition.Value, record.Offset.Value, reason);
        if (!WaitForSlot())
        {
            Dropped(origin, $"{bound} dead letters still undelivered after {slotWait.TotalSeconds:0.###} s");
            return;
        }
        var headers = new Headers
        {
            { KafkaHeaders.DeadLetterReason, Encoding.UTF8.GetBytes(reason) },
            { KafkaHeaders.DeadLetterOrigin, Encoding.UTF8.GetBytes(origin) },
            { KafkaHeaders.DeadLetterError, Encoding.UTF8.GetBytes(outcome.Error?.GetType().Name ?? "") },
        };
        try
        {
            producer.Produce(topic, new Message<string, byte[]> { Key = record.Message.Key!, Value = record.Message.Value ?? [], Headers = headers },
                report =>
                {
                    _slots.Release();
                    if (report.Error.IsError)
                    {
                        counters.DeadLettersUndelivered++;
                        WorkerLog.KafkaError(logger, $"dead letter of {origin} not delivered: {report.Error.Reason}", report.Error.IsFatal);
                    }
                });
        }
        catch (ProduceException<string, byte[]> ex)
        {
            _slots.Release();
            Dropped(origin, ex.Error.Reason);
        }
    }

    public void Flush() => producer.Flush(s_flushTimeout);

    private bool WaitForSlot()
    {
        if (_slots.Wait(0))
            return true;
        using var timeout = new CancellationTokenSource(slotWait, time);
        try
        {
            _slots.Wait(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return false;
        }
    }

    private void Dropped(string origin, string why)
    {
        counters.DeadLettersDropped++;
        WorkerLog.DeadLetterDropped(logger, origin, why);
    }
}
