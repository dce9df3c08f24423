using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Vmtrace.Worker;

/// <summary>
/// Checkpoints a partition every <see cref="WorkerOptions.CheckpointInterval"/> (and on revocation and shutdown) in
/// the order that makes restarts exact: every pending point written and acknowledged, the dead letters so far
/// delivered, the checkpoint saved, and only then the group offset stored.
/// </summary>
internal sealed class PartitionCheckpointer(ICheckpointStore store, IRecordDeadLetters deadLetters, IEventsConsumer consumer,
    BatchingPointWriter points, WorkerCounters counters, WorkerOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>The partition's checkpoint interval starts now (it was just assigned).</summary>
    public void Started(PartitionState partition) => partition.LastCheckpointTicks = time.GetTimestamp();

    /// <summary>Checkpoints every partition that moved since its checkpoint and whose interval is over.</summary>
    public void CheckpointDue(IEnumerable<PartitionState> partitions, CancellationToken stop)
    {
        foreach (var p in partitions)
        {
            if (p.NextOffset != p.CheckpointedOffset && time.GetElapsedTime(p.LastCheckpointTicks) >= options.CheckpointInterval)
            {
                points.Flush(stop, singleAttempt: false);
                Checkpoint(p);
            }
        }
    }

    /// <summary>One attempt (revocation, shutdown): false, logged, when InfluxDB or Kafka did not take it.</summary>
    public bool TryCheckpoint(PartitionState partition)
    {
        if (partition.NextOffset == partition.CheckpointedOffset)
            return true;
        try
        {
            points.Flush(CancellationToken.None, singleAttempt: true);
            Checkpoint(partition);
            return true;
        }
        catch (Exception ex) when (BatchingPointWriter.IsWriteFailure(ex) || ex is KafkaException)
        {
            // Not checkpointed: the next owner resumes from the previous checkpoint and recomputes the same points.
            WorkerLog.CheckpointFailed(logger, partition.Partition, ex.Message);
            return false;
        }
    }

    /// <summary>Saves the checkpoint of a partition whose points are all written.</summary>
    private void Checkpoint(PartitionState p)
    {
        deadLetters.Flush();
        int bytes = store.Save(p);
        consumer.StoreOffset(p.Partition, p.NextOffset);
        p.CheckpointedOffset = p.NextOffset;
        p.LastCheckpointTicks = time.GetTimestamp();
        counters.Checkpoints++;
        counters.CheckpointBytes += bytes;
        WorkerLog.Checkpointed(logger, p.Partition, p.NextOffset, bytes);
    }
}
