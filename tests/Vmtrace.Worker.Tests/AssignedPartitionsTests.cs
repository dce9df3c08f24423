using Confluent.Kafka;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Worker.Tests;

/// <summary>Assignment resumes from the checkpoint, or from the earliest offset when there is none or it is unreadable.</summary>
public class AssignedPartitionsTests
{
    [Fact]
    public void Assign_ResumesAtTheCheckpointsOffset_OrTheEarliest()
    {
        var w = new WorkerParts();
        var saved = new PartitionState(1) { NextOffset = 42 };
        saved.Host("host-a").SessionId = "s1";
        w.Store.Save(saved);

        var starts = w.Partitions.Assign([new TopicPartition(ScriptedConsumer.Topic, 0), new TopicPartition(ScriptedConsumer.Topic, 1)]);

        Assert.Equal([Offset.Beginning, new Offset(42)], starts.Select(s => s.Offset));
        Assert.True(w.Partitions.TryGet(1, out var restored));
        Assert.Equal(("s1", 42L), (restored.Hosts["host-a"].SessionId, restored.CheckpointedOffset));
        Assert.Equal((1L, 2L), (w.Counters.RestoredPartitions, w.Counters.AssignedPartitions));
    }

    [Fact]
    public void Assign_UnreadableCheckpoint_StartsOverAtTheEarliestOffsetWithOneErrorLine()
    {
        var w = new WorkerParts();
        w.Store.LoadFails = new CheckpointFormatException("partition 3: checkpoint version 9, this build reads 1");

        var start = Assert.Single(w.Partitions.Assign([new TopicPartition(ScriptedConsumer.Topic, 3)]));

        Assert.Equal(Offset.Beginning, start.Offset);
        Assert.Contains(w.Log.Written, l => l.Text == "Cannot checkpoint partition 3: unreadable, starting over from the earliest offset: partition 3: checkpoint version 9, this build reads 1");
    }

    [Fact]
    public void Lose_DropsThePartitionWithoutCheckpointing()
    {
        var w = new WorkerParts();
        w.Assign(0).NextOffset = 9;

        w.Partitions.Lose([new TopicPartitionOffset(ScriptedConsumer.Topic, 0, Offset.Unset)]);

        Assert.Equal(0, w.Partitions.Count);
        Assert.Empty(w.Steps.Steps);
        Assert.Equal(0, w.Counters.AssignedPartitions);
    }
}
