namespace Vmtrace.Worker.Tests;

/// <summary>Checkpoints on a fake clock: every CheckpointInterval, only for a partition that moved, points first.</summary>
public class PartitionCheckpointerTests
{
    [Fact]
    public void CheckpointDue_EveryCheckpointInterval_OnlyWhenThePartitionMoved_PointsWrittenFirst()
    {
        var w = new WorkerParts(new WorkerOptions { CheckpointInterval = TimeSpan.FromSeconds(10), FlushInterval = TimeSpan.FromHours(1) });
        var p0 = w.Assign(0);
        var p1 = w.Assign(1);
        p0.NextOffset = 5;
        w.Points.Pending.Add("m v=1i 1");

        w.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        Assert.Empty(w.Steps.Steps);

        w.Time.Advance(TimeSpan.FromTicks(1));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        // Partition 1 read nothing, but it has no checkpoint yet (CheckpointedOffset -1): it gets its first, at offset 0.
        Assert.Equal(["write 1", "dead letters flushed", "checkpoint 0@5", "store offset 0@5", "dead letters flushed", "checkpoint 1@0", "store offset 1@0"],
            w.Steps.Steps);
        Assert.Equal((2, 5L, 0L), (w.Counters.Checkpoints, p0.CheckpointedOffset, p1.CheckpointedOffset));

        w.Steps.Steps.Clear();
        w.Time.Advance(TimeSpan.FromSeconds(30));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        Assert.Empty(w.Steps.Steps); // neither moved

        p1.NextOffset = 3;
        w.Time.Advance(TimeSpan.FromSeconds(1));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        Assert.Equal(["dead letters flushed", "checkpoint 1@3", "store offset 1@3"], w.Steps.Steps);
        w.Steps.Steps.Clear();

        p1.NextOffset = 4; // moved again, but its interval restarted at the last checkpoint
        w.Time.Advance(TimeSpan.FromSeconds(9));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        Assert.Empty(w.Steps.Steps);
        w.Time.Advance(TimeSpan.FromSeconds(1));
        w.Checkpointer.CheckpointDue(w.Partitions.All, CancellationToken.None);
        Assert.Equal(["dead letters flushed", "checkpoint 1@4", "store offset 1@4"], w.Steps.Steps);
    }
}
