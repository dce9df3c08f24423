using Confluent.Kafka;
using Vmtrace.Kafka;

namespace Vmtrace.Agent;

/// <summary>
/// Records to the events topic with one idempotent producer (acks=all, compressed as <c>Agent:Compression</c> says): ordered and without duplicates
/// per host even across retries. The buffer (librdkafka's queue) is bounded; when full the caller waits.
/// Every delivery report is checked: the first record Kafka did not take stops the agent (counted, logged).
/// </summary>
public sealed class KafkaRecordSink : IRecordSink, IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly AgentCounters _counters;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private readonly TimeProvider _time;
    private volatile string? _failure;

    /// <param name="onError">librdkafka's error reports (many a second while brokers are down).</param>
    /// <param name="onDelivered">After each record Kafka acknowledged (so an outage can be seen to end).</param>
    /// <param name="time">The clock of the time the source spends blocked on a full buffer.</param>
    /// <param name="compression">The codec and level (default <see cref="RecordCompression.Default"/>).</param>
    public KafkaRecordSink(KafkaOptions kafka, int maxBufferedKiB, AgentCounters counters, Action<Error>? onError = null, Action? onDelivered = null,
        TimeProvider? time = null, RecordCompression? compression = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        _topic = kafka.EventsTopic;
        _counters = counters;
        _time = time ?? TimeProvider.System;
        _counters.BufferCapacityBytes = maxBufferedKiB * 1024L;
        var producerConfig = new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            QueueBufferingMaxKbytes = maxBufferedKiB,
            QueueBufferingMaxMessages = 1_000_000,
            MessageMaxBytes = 8 * 1024 * 1024,
            MessageTimeoutMs = 0, // never give up on a record while the agent runs: idempotence keeps order and no duplicates
        };
        (compression ?? DefaultCompression).ApplyTo(producerConfig);
        var config = kafka.Apply(producerConfig); // Kafka:Properties come last: they can still override any of these
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                onError?.Invoke(e);
                if (e.IsFatal)
                    _failure ??= "fatal Kafka error: " + e.Reason;
            })
            .Build();
        _onDelivery = report =>
        {
            long bytes = Size(report.Message);
            if (report.Error.IsError)
            {
                _counters.NoteDeliveryError(bytes);
                _failure ??= $"record of {report.Message.Key} not delivered to {report.TopicPartition}: {report.Error.Reason}";
            }
            else
            {
                _counters.NoteDelivered(bytes);
                onDelivered?.Invoke();
            }
        };
    }

    public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        var message = new Message<string, byte[]> { Key = key, Value = value };
        if (sessionEnd)
            message.Headers = new Headers { { KafkaHeaders.SessionEnd, [1] } };
        long waitStart = 0;
        try
        {
            while (true)
            {
                try
                {
                    _producer.Produce(_topic, message, _onDelivery);
                    _counters.NoteProduced(Size(message));
                    return;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // Buffer full: block the source until Kafka takes some (never drop).
                    if (waitStart == 0)
                    {
                        waitStart = Math.Max(1, _time.GetTimestamp()); // 0 means "not waiting"
                        _counters.NoteBlocked(waitStart);
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                    _producer.Poll(TimeSpan.FromMilliseconds(50));
                    ThrowIfFailed();
                }
            }
        }
        finally
        {
            // Counted however the wait ended (space, stop or failure), so the blocked time is never lost.
            if (waitStart != 0)
                _counters.NoteBufferFull(_time.GetElapsedTime(waitStart));
        }
    }

    private static RecordCompression DefaultCompression =>
        RecordCompression.TryParse(RecordCompression.Default, out var c, out _) ? c : throw new InvalidOperationException("bad default compression");

    // What the buffer holds for a record (librdkafka counts key and value the same way).
    private static long Size(Message<string, byte[]> message) =>
        (message.Key is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(message.Key)) + (message.Value?.Length ?? 0);

    public void Flush(TimeSpan timeout)
    {
        int left = _producer.Flush(timeout);
        ThrowIfFailed();
        if (left > 0)
            throw new TimeoutException($"{left} record(s) still not acknowledged by Kafka after {timeout.TotalSeconds} s");
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } f)
            throw new KafkaException(new Error(ErrorCode.Local_Fail, f));
    }

    public void Dispose() => _producer.Dispose();
}
