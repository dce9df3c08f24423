using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Vmtrace.Worker.Tests;

/// <summary>The consume loop over a scripted consumer and a fake clock: unreadable records, revocation, offsets after points.</summary>
public class ConsumeLoopTests
{
    private const long Sampled = 1_765_000_000_000_000_000;

    [Fact]
    public void ConsumeException_OneLineOneCount_TheLoopGoesOnWithTheNextRecord()
    {
        var w = new WorkerParts();
        var state = w.Assign(0);
        using var stop = new CancellationTokenSource();
        w.Consumer.Record(0, 0, WorkerParts.AgentHealth(Sampled))
            .Throw(ErrorCode.Local_KeyDeserialization, fatal: false, partition: 0, offset: 1)
            .Record(0, 2, WorkerParts.AgentHealth(Sampled + 1))
            .WhenDone = stop.Cancel;

        w.Loop.Run(stop.Token);

        Assert.Equal(1, w.Counters.ConsumeErrors);
        var line = Assert.Single(w.Log.Written, l => l.Text.StartsWith("Cannot read a record", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("vmtrace.events/0@1", line.Text, StringComparison.Ordinal);
        // Both readable records were processed and their points written; the partition moved past all three.
        Assert.Equal(2, w.Writer.Writes.Sum(b => b.Length));
        Assert.Equal(3, state.NextOffset);
        Assert.Equal(2, w.Counters.RecordsIn);
    }

    [Fact]
    public void FatalConsumeException_IsLoggedAndEndsTheLoop()
    {
        var w = new WorkerParts();
        w.Assign(0);
        using var stop = new CancellationTokenSource();
        w.Consumer.Throw(ErrorCode.Local_Fatal, fatal: true, partition: 0, offset: 0)
            .Record(0, 1, WorkerParts.AgentHealth(Sampled))
            .WhenDone = stop.Cancel;

        Assert.Throws<ConsumeException>(() => w.Loop.Run(stop.Token));

        Assert.Equal(1, w.Counters.ConsumeErrors);
        Assert.Contains(w.Log.Written, l => l.Text.Contains("(fatal: True)", StringComparison.Ordinal));
        Assert.Equal(0, w.Counters.RecordsIn); // nothing after the fatal error was read
    }

    [Fact]
    public void Revocation_PendingPointsWrittenThenDeadLettersFlushedThenCheckpointThenOffset()
    {
        var w = new WorkerParts();
        var state = w.Assign(0);
        using var stop = new CancellationTokenSource();
        // librdkafka runs the revocation handler inside Consume: here the call right after the records, while their
        // points are still pending (FlushInterval is an hour).
        w.Consumer.Record(0, 0, WorkerParts.AgentHealth(Sampled))
            .Record(0, 1, [])
            .Record(0, 2, WorkerParts.AgentHealth(Sampled + 1))
            .Then(() => w.Partitions.Revoke([new TopicPartitionOffset(ScriptedConsumer.Topic, 0, Offset.Unset)]))
            .WhenDone = stop.Cancel;

        w.Loop.Run(stop.Token);

        Assert.Equal(
            ["dead letter 0@1", "write 2", "dead letters flushed", "checkpoint 0@3", "store offset 0@3"],
            w.Steps.Steps);
        Assert.Equal(0, w.Partitions.Count);
        Assert.Contains(w.Log.Written, l => l.Text == "Partition 0 revoked at offset 3 (checkpointed: True)");
        Assert.Equal(3, PartitionCheckpoint.Decode(w.Store.Saved[0], 0).NextOffset);
        Assert.Equal(3, state.CheckpointedOffset);
    }

    [Fact]
    public void Revocation_InfluxDown_NoCheckpointAndNoOffsetStored()
    {
        var w = new WorkerParts();
        w.Assign(0);
        using var stop = new CancellationTokenSource();
        w.Writer.FailNext = 1;
        w.Consumer.Record(0, 0, WorkerParts.AgentHealth(Sampled))
            .Then(() => w.Partitions.Revoke([new TopicPartitionOffset(ScriptedConsumer.Topic, 0, Offset.Unset)]))
            .WhenDone = stop.Cancel;

        w.Loop.Run(stop.Token);

        // The next owner resumes from the previous checkpoint (none) and computes the same point again.
        Assert.Equal(["write of 1 failed"], w.Steps.Steps.Take(1));
        Assert.DoesNotContain(w.Steps.Steps, s => s.StartsWith("checkpoint", StringComparison.Ordinal) || s.StartsWith("store offset", StringComparison.Ordinal));
        Assert.Empty(w.Store.Saved);
        Assert.Contains(w.Log.Written, l => l.Text == "Partition 0 revoked at offset 1 (checkpointed: False)");
    }

    [Fact]
    public void Stop_EverythingProcessedIsWrittenAndCheckpointedBeforeTheLoopReturns()
    {
        var w = new WorkerParts();
        w.Assign(0);
        w.Assign(1);
        using var stop = new CancellationTokenSource();
        w.Consumer.Record(0, 0, WorkerParts.AgentHealth(Sampled))
            .Record(1, 5, WorkerParts.AgentHealth(Sampled, host: "host-b"))
            .Then(stop.Cancel);

        w.Loop.Run(stop.Token);

        Assert.Equal(["write 2", "dead letters flushed", "checkpoint 0@1", "store offset 0@1", "dead letters flushed", "checkpoint 1@6", "store offset 1@6"],
            w.Steps.Steps);
    }

    [Fact]
    public void RecordBeforeTheRestoredOffset_IsSkipped()
    {
        var w = new WorkerParts();
        var state = w.Assign(0);
        state.NextOffset = 4; // restored from a checkpoint at 4: records below it are in the state already
        using var stop = new CancellationTokenSource();
        w.Consumer.Record(0, 3, WorkerParts.AgentHealth(Sampled)).Record(0, 4, WorkerParts.AgentHealth(Sampled + 1)).WhenDone = stop.Cancel;

        w.Loop.Run(stop.Token);

        Assert.Equal(1, w.Counters.RecordsIn);
        Assert.Equal(5, state.NextOffset);
    }

    [Fact]
    public void SilentHost_EndedByTheLoopOnceHostIdleTimeoutOfFakeTimePassed()
    {
        var w = new WorkerParts(new WorkerOptions
        {
            HostIdleTimeout = TimeSpan.FromSeconds(10),
            FlushInterval = TimeSpan.FromHours(1),
            CheckpointInterval = TimeSpan.FromHours(1),
            HealthInterval = TimeSpan.FromHours(1),
        });
        var state = w.Assign(0);
        using var stop = new CancellationTokenSource();
        var start = w.Time.GetUtcNow();
        // A heartbeat makes the host known (session, no analysis); then nothing more of it arrives.
        w.Consumer.Record(0, 0, new Vmtrace.Wire.HostRecordWriter("host-a", "s1").Heartbeat(1_000)).WhenDone = () =>
        {
            if (w.Counters.HostsTimedOut > 0 || w.Time.GetUtcNow() - start > TimeSpan.FromMinutes(1))
                stop.Cancel();
        };

        w.Loop.Run(stop.Token);

        // Every empty poll lets 100 ms of fake time pass; silent hosts are looked for once a second.
        Assert.Equal(1, w.Counters.HostsTimedOut);
        Assert.Empty(state.Hosts);
        Assert.InRange(w.Time.GetUtcNow() - start, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11.2));
        Assert.Contains(w.Log.Written, l => l.Text.StartsWith("Host host-a (partition 0) sent nothing for 00:00:10", StringComparison.Ordinal));
    }
}
