using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Worker;

/// <summary>
/// The events partitions this worker owns, each with its host streams (<see cref="PartitionState"/>). Assignment
/// restores a partition from its checkpoint (or starts it at the earliest offset), revocation checkpoints it before
/// it goes, a lost partition is dropped (its next owner resumes from its last checkpoint).
/// </summary>
internal sealed class AssignedPartitions(ICheckpointStore store, PartitionCheckpointer checkpointer, IdleHosts idleHosts,
    WorkerCounters counters, ILogger logger)
{
    private readonly Dictionary<int, PartitionState> _partitions = [];

    public int Count => _partitions.Count;

    public IReadOnlyCollection<PartitionState> All => _partitions.Values;

    public bool TryGet(int partition, out PartitionState state) => _partitions.TryGetValue(partition, out state!);

    /// <summary>Restores each partition; returns where to start reading it.</summary>
    public List<TopicPartitionOffset> Assign(IEnumerable<TopicPartition> parts)
    {
        var result = new List<TopicPartitionOffset>();
        foreach (var tp in parts)
        {
            var state = Restore(tp.Partition.Value);
            if (state is not null)
            {
                counters.RestoredPartitions++;
                WorkerLog.Restored(logger, tp.Partition.Value, state.NextOffset, state.Hosts.Count);
                result.Add(new TopicPartitionOffset(tp, state.NextOffset));
            }
            else
            {
                state = new PartitionState(tp.Partition.Value);
                WorkerLog.NoCheckpoint(logger, tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, Offset.Beginning));
            }
            checkpointer.Started(state);
            _partitions[tp.Partition.Value] = state;
        }
        counters.AssignedPartitions = _partitions.Count;
        return result;
    }

    /// <summary>Each partition is checkpointed (its points written first) before another worker takes it.</summary>
    public void Revoke(IEnumerable<TopicPartitionOffset> parts)
    {
        foreach (var tp in parts)
        {
            if (!_partitions.Remove(tp.Partition.Value, out var p))
                continue;
            idleHosts.Forget(p.Partition);
            bool ok = checkpointer.TryCheckpoint(p);
            WorkerLog.Revoked(logger, p.Partition, p.NextOffset, ok);
        }
        counters.AssignedPartitions = _partitions.Count;
    }

    /// <summary>Taken away without a revocation (session timeout): nothing can be checkpointed any more.</summary>
    public void Lose(IEnumerable<TopicPartitionOffset> parts)
    {
        foreach (var tp in parts)
        {
            if (_partitions.Remove(tp.Partition.Value))
            {
                idleHosts.Forget(tp.Partition.Value);
                WorkerLog.Lost(logger, tp.Partition.Value);
            }
        }
        counters.AssignedPartitions = _partitions.Count;
    }

    private PartitionState? Restore(int partition)
    {
        try
        {
            return store.Load(partition);
        }
        catch (CheckpointFormatException ex)
        {
            // A checkpoint this build cannot read: recompute from the earliest record still in the topic.
            WorkerLog.CheckpointFailed(logger, partition, "unreadable, starting over from the earliest offset: " + ex.Message);
            return null;
        }
    }
}
