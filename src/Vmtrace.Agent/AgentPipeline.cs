using System.Diagnostics;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent;

/// <summary>
/// The agent's loop for one source: inventory first, then event batches (key = host), a watermark heartbeat
/// every <see cref="AgentOptions.HeartbeatInterval"/> and the inventory again every
/// <see cref="AgentOptions.InventoryInterval"/>; at the end of a replay the last batch and a session-end
/// heartbeat whose watermark is the last event's time (where <c>vmtrace analyze</c> ends its last window).
/// A heartbeat's watermark is the newest event already sent, so it never closes a window early.
/// </summary>
public sealed class AgentPipeline
{
    private readonly IAgentSource _source;
    private readonly IRecordSink _sink;
    private readonly AgentOptions _options;

    public AgentPipeline(IAgentSource source, IRecordSink sink, AgentOptions options, AgentCounters? counters = null)
    {
        _source = source;
        _sink = sink;
        _options = options;
        Counters = counters ?? new AgentCounters();
    }

    public AgentCounters Counters { get; }

    public void Run(CancellationToken cancellationToken)
    {
        using var events = _source.Open();
        var records = new HostRecordWriter(_source.HostId, Guid.NewGuid().ToString("N"));
        var batches = new EventBatchWriter(records, new EventBatchWriterOptions
        {
            MaxEvents = _options.BatchMaxEvents,
            MaxSpanNs = _options.BatchMaxSpan.Ticks * 100,
        })
        {
            Clock = events.Clock,
            CpuCount = events.CpuCount,
        };
        string key = _source.HostId;
        var inventory = _source.Inventory(events);
        _sink.Send(key, records.Inventory(inventory), false, cancellationToken);
        Counters.Inventories++;

        long started = Stopwatch.GetTimestamp();
        long lastHeartbeat = started, lastInventory = started, batchStarted = started;
        long firstEvent = long.MinValue, lastSent = long.MinValue, maxSeen = long.MinValue, batchMax = long.MinValue;
        long read = 0;
        long maxDelayTicks = (long)(_options.BatchMaxDelay.TotalSeconds * Stopwatch.Frequency);
        // Replay pacing, per event: an event is read when the wall clock reaches its time (scaled by Speed), as a
        // live tracer would deliver it, rather than a whole batch early and then a wait.
        double ticksPerEventNs = _options.Speed > 0 ? Stopwatch.Frequency / 1e9 / _options.Speed : 0;
        long slackTicks = Stopwatch.Frequency / 1000;
        while (events.MoveNext())
        {
            var e = events.Current;
            long t = e.Timestamp;
            if (firstEvent == long.MinValue)
                firstEvent = t;
            if (ticksPerEventNs > 0)
            {
                long due = started + (long)((t - firstEvent) * ticksPerEventNs);
                long ahead = due - Stopwatch.GetTimestamp();
                if (ahead >= slackTicks)
                {
                    // A quiet stretch: what was read goes out before the wait if the wait would hold it too long.
                    if (batches.EventCount > 0 && due - batchStarted >= maxDelayTicks)
                        Send();
                    cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds((double)ahead / Stopwatch.Frequency));
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            if (t > maxSeen)
                maxSeen = t;
            if (t > batchMax)
                batchMax = t;
            if (batches.EventCount == 0)
                batchStarted = Stopwatch.GetTimestamp();
            batches.Append(e);
            read++;
            // The wall-clock limit is checked every 64 events (a clock read costs more than appending an event):
            // a slow host's batch leaves after BatchMaxDelay instead of waiting for BatchMaxSpan of its events.
            if (batches.IsFull || ((read & 63) == 0 && batches.EventCount > 0 && Stopwatch.GetTimestamp() - batchStarted >= maxDelayTicks))
                Send();
        }

        void Send()
        {
            Counters.EventsRead = read;
            SendBatch(key, batches, cancellationToken);
            lastSent = batchMax;
            long now = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(lastHeartbeat, now) >= _options.HeartbeatInterval)
            {
                _sink.Send(key, records.Heartbeat(lastSent), false, cancellationToken);
                Counters.Heartbeats++;
                lastHeartbeat = now;
            }
            if (Stopwatch.GetElapsedTime(lastInventory, now) >= _options.InventoryInterval)
            {
                _sink.Send(key, records.Inventory(_source.Inventory(events)), false, cancellationToken);
                Counters.Inventories++;
                lastInventory = now;
            }
        }
        Counters.EventsRead = read;
        if (batches.EventCount > 0)
            SendBatch(key, batches, cancellationToken);
        Counters.TracerLostEvents = TraceOpener.DiagnosticsOf(events).LostEvents;
        if (maxSeen != long.MinValue)
        {
            _sink.Send(key, records.Heartbeat(maxSeen), true, cancellationToken);
            Counters.Heartbeats++;
        }
    }

    private void SendBatch(string key, EventBatchWriter batches, CancellationToken cancellationToken)
    {
        int n = batches.EventCount;
        var record = batches.Flush();
        _sink.Send(key, record, false, cancellationToken);
        Counters.EventsSent += n;
        Counters.EventsSkipped = batches.SkippedEvents;
        Counters.Batches++;
        Counters.BatchBytes += record.Length;
    }
}
