using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// The worker's consume loop, shaped like the Confluent client's examples: consume, handle, and a record that cannot be
/// read (<see cref="ConsumeException"/>) is one log line and a count, the loop going on unless the error is fatal.
/// Between records it writes the points that are due, checkpoints the partitions that are due (offsets are stored
/// only after their points are written), ends silent hosts and reports health. When stopped, everything processed
/// is written and checkpointed.
/// </summary>
internal sealed class ConsumeLoop(IEventsConsumer consumer, AssignedPartitions partitions, RecordProcessor processor,
    BatchingPointWriter points, PartitionCheckpointer checkpointer, IRecordDeadLetters deadLetters, IdleHosts idleHosts,
    HealthReporter health, WorkerOutages outages, WorkerOptions options, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan s_idleSweepInterval = TimeSpan.FromSeconds(1);
    private long _lastIdleSweep = time.GetTimestamp();

    /// <summary>Consumes until <paramref name="stop"/>, then writes and checkpoints what was processed.</summary>
    /// <exception cref="ConsumeException">A fatal consumer error (logged first).</exception>
    public void Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            // With points waiting, first look whether a record is already here: if none, the worker has caught up, and
            // the points go out now instead of after FlushInterval (window lag); while records keep coming, writes stay batched.
            var cr = TryConsume(points.Pending.Count > 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(100));
            if (cr is not null)
                outages.Kafka.Succeeded();
            if (cr is not null && !cr.IsPartitionEOF)
                Handle(cr);
            else if (points.Pending.Count > 0)
                points.Flush(stop, singleAttempt: false);
            Housekeeping(stop);
        }
        points.Flush(CancellationToken.None, singleAttempt: true);
        foreach (var p in partitions.All.ToList())
            checkpointer.TryCheckpoint(p);
    }

    private ConsumeResult<string?, byte[]>? TryConsume(TimeSpan timeout)
    {
        try
        {
            return consumer.Consume(timeout);
        }
        catch (ConsumeException ex)
        {
            processor.Counters.ConsumeErrors++;
            string origin = ex.ConsumerRecord is { } r ? $"{r.Topic}/{r.Partition.Value}@{r.Offset.Value}" : "the events topic";
            WorkerLog.ConsumeFailed(logger, origin, ex.Error.Reason, ex.Error.IsFatal);
            if (ex.Error.IsFatal)
                throw;
            return null;
        }
    }

    private void Handle(ConsumeResult<string?, byte[]> cr)
    {
        if (!partitions.TryGet(cr.Partition.Value, out var state) || cr.Offset.Value < state.NextOffset)
            return; // not ours any more, or before the checkpoint (already in its state)
        bool sessionEnd = cr.Message.Headers?.TryGetLastBytes(KafkaHeaders.SessionEnd, out _) == true;
        var outcome = processor.Process(state, cr.Message.Value, sessionEnd, points.Pending);
        idleHosts.Seen(state.Partition, cr.Message.Key);
        if (!outcome.Used)
            deadLetters.Send(cr, outcome);
        state.NextOffset = cr.Offset.Value + 1;
    }

    private void Housekeeping(CancellationToken stop)
    {
        if (points.IsDue)
            points.Flush(stop, singleAttempt: false);
        checkpointer.CheckpointDue(partitions.All, stop);
        outages.ProbeKafka(consumer, () => $"{points.Pending.Count} point(s) waiting");
        if (time.GetElapsedTime(_lastIdleSweep) >= s_idleSweepInterval)
        {
            _lastIdleSweep = time.GetTimestamp();
            foreach (var p in partitions.All)
            {
                foreach (var host in idleHosts.Expired(p))
                {
                    WorkerLog.HostTimedOut(logger, host.HostId, p.Partition, options.HostIdleTimeout);
                    processor.EndSilentHost(p, host, points.Pending);
                }
            }
        }
        health.ReportIfDue();
        processor.Counters.PendingPoints = points.Pending.Count;
        processor.Counters.AssignedPartitions = partitions.Count;
    }
}
