using Microsoft.Extensions.Logging;

namespace Vmtrace.Agent;

internal static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "Agent replaying {Source} as host {Host} (speed {Speed}, 0 = as fast as possible)")]
    public static partial void Starting(ILogger logger, string source, string host, double speed);

    [LoggerMessage(2, LogLevel.Information,
        "agent health: read={Read} sent={Sent} skipped={Skipped} batches={Batches} bytes={Bytes} delivered={Delivered} delivery_errors={Errors} buffer_full_waits={Waits} tracer_lost={Lost}")]
    public static partial void Health(ILogger logger, long read, long sent, long skipped, long batches, long bytes, long delivered, long errors, long waits, long lost);

    [LoggerMessage(3, LogLevel.Information, "Replay of {Source} done: {Events} events in {Batches} records ({BytesPerEvent:F2} bytes/event), all acknowledged by Kafka")]
    public static partial void Done(ILogger logger, string source, long events, long batches, double bytesPerEvent);

    [LoggerMessage(6, LogLevel.Information, "Agent tracing this host ({Source}) as host {Host}")]
    public static partial void StartingLive(ILogger logger, string source, string host);

    [LoggerMessage(7, LogLevel.Information, "Live agent stopped: {Events} events in {Batches} records ({BytesPerEvent:F2} bytes/event), all acknowledged by Kafka; tracer lost {Lost}")]
    public static partial void StoppedLive(ILogger logger, long events, long batches, double bytesPerEvent, long lost);

    [LoggerMessage(4, LogLevel.Error, "Agent stopped: {Error}")]
    public static partial void Failed(ILogger logger, Exception exception, string error);

    [LoggerMessage(20, LogLevel.Error, "Agent refused its input: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Kafka: {Reason}")]
    public static partial void KafkaError(ILogger logger, string reason);

    [LoggerMessage(8, LogLevel.Error, "Agent stopped with {Records} record(s) ({KiB} KiB) not acknowledged by Kafka (lost): {Error}")]
    public static partial void NotFlushed(ILogger logger, long records, long kiB, string error);
}
