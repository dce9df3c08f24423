using Microsoft.Extensions.Logging;

namespace Vmtrace.Worker;

internal static partial class WorkerLog
{
    [LoggerMessage(1, LogLevel.Information, "Partition {Partition} assigned: resuming at offset {Offset} from a checkpoint of {Hosts} host(s)")]
    public static partial void Restored(ILogger logger, int partition, long offset, int hosts);

    [LoggerMessage(2, LogLevel.Information, "Partition {Partition} assigned: no checkpoint, starting at the earliest offset")]
    public static partial void NoCheckpoint(ILogger logger, int partition);

    [LoggerMessage(3, LogLevel.Information, "Partition {Partition} revoked at offset {Offset} (checkpointed: {Checkpointed})")]
    public static partial void Revoked(ILogger logger, int partition, long offset, bool checkpointed);

    [LoggerMessage(4, LogLevel.Warning, "Partition {Partition} lost: its state is dropped, the next owner resumes from its last checkpoint")]
    public static partial void Lost(ILogger logger, int partition);

    [LoggerMessage(5, LogLevel.Warning, "Record {Topic}[{Partition}]@{Offset} dead-lettered: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string reason);

    [LoggerMessage(8, LogLevel.Debug, "Checkpoint of partition {Partition} at offset {Offset}: {Bytes} bytes")]
    public static partial void Checkpointed(ILogger logger, int partition, long offset, int bytes);

    [LoggerMessage(9, LogLevel.Information,
        "health: records={Records} events={Events} windows={Windows} points={Points} deadlettered={DeadLettered} checkpoints={Checkpoints} lag={Lag} watermark_lag_ms={WatermarkLagMs} write_ms={WriteMs} write_failures={WriteFailures}")]
    public static partial void Health(ILogger logger, long records, long events, long windows, long points, long deadLettered, long checkpoints, long lag, long watermarkLagMs, double writeMs, long writeFailures);

    [LoggerMessage(10, LogLevel.Error, "Cannot checkpoint partition {Partition}: {Error}")]
    public static partial void CheckpointFailed(ILogger logger, int partition, string error);

    [LoggerMessage(11, LogLevel.Error, "Kafka error: {Reason} (fatal: {Fatal})")]
    public static partial void KafkaError(ILogger logger, string reason, bool fatal);

    [LoggerMessage(12, LogLevel.Warning, "Host {Host} (partition {Partition}) sent nothing for {Timeout}: its session is ended, its open window closed at its last event")]
    public static partial void HostTimedOut(ILogger logger, string host, int partition, TimeSpan timeout);

    [LoggerMessage(13, LogLevel.Error, "Dead letter of {Origin} dropped, the record stays in the events topic: {Why}")]
    public static partial void DeadLetterDropped(ILogger logger, string origin, string why);

    [LoggerMessage(14, LogLevel.Warning, "Cannot read a record of {Origin}: {Reason} (fatal: {Fatal})")]
    public static partial void ConsumeFailed(ILogger logger, string origin, string reason, bool fatal);
}
