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
/// The agent's counters go along as agent health records every <see cref="AgentOptions.HealthInterval"/>, and
/// once more at the end of a replay once Kafka acknowledged everything before it (the agent has no InfluxDB
/// of its own: the worker writes them to <c>pipeline_health</c>).
/// A live source (<see cref="ILiveEventSource"/>) runs until cancelled, then drains and ends the session the same way.
/// </summary>
public sealed class AgentPipeline
{
    private readonly IAgentSource _source;
    private readonly IRecordSink _sink;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;

    /// <param name="time">The clock of a live source's heartbeat, inventory and health intervals (tests pass a fake one).</param>
    public AgentPipeline(IAgentSource source, IRecordSink sink, AgentOptions options, AgentCounters? counters = null, TimeProvider? time = null)
    {
        _source = source;
        _sink = sink;
        _options = options;
        _time = time ?? TimeProvider.System;
        Counters = counters ?? new AgentCounters();
    }

    public AgentCounters Counters { get; }

    /// <summary>The last event time (after any shift) of the latest pass; a loop's next pass starts after it.</summary>
    public long LastEventTime { get; private set; } = long.MinValue;

    /// <summary>The shift (ns) of the latest pass: 0 unless <see cref="AgentOptions.Replay"/> asks for one.</summary>
    public long LastShiftNs { get; private set; }

    /// <summary>The replay: one pass, or with <c>Agent:Replay:Loop</c> passes until cancelled.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        do
        {
            RunPass(cancellationToken);
        }
        while (_options.Replay.Loop && !cancellationToken.IsCancellationRequested);
    }

    private void RunPass(CancellationToken cancellationToken)
    {
        using var opened = _source.Open();
        var timing = _options.Replay;
        using var events = timing.ShiftToNow || timing.Shift != TimeSpan.Zero
            ? new ShiftedEventSource(opened, first => timing.ShiftFor(first, (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100, LastEventTime))
            : null;
        var source = (EventSource?)events ?? opened;
        var records = new HostRecordWriter(_source.HostId, Guid.NewGuid().ToString("N"));
        var batches = new EventBatchWriter(records, new EventBatchWriterOptions
        {
            MaxEvents = _options.BatchMaxEvents,
            MaxSpanNs = _options.BatchMaxSpan.Ticks * 100,
        })
        {
            Clock = source.Clock,
            CpuCount = source.CpuCount,
        };
        string key = _source.HostId;
        var inventory = _source.Inventory(opened);
        _sink.Send(key, records.Inventory(inventory), false, cancellationToken);
        Counters.Inventories++;
        if (opened is ILiveEventSource live)
        {
            RunLive(opened, live, records, batches, inventory, cancellationToken);
            return;
        }

        long started = Stopwatch.GetTimestamp();
        long lastHeartbeat = started, lastInventory = started, lastHealth = started, batchStarted = started;
        long firstEvent = long.MinValue, lastSent = long.MinValue, maxSeen = long.MinValue, batchMax = long.MinValue;
        long read = Counters.EventsRead;
        long maxDelayTicks = (long)(_options.BatchMaxDelay.TotalSeconds * Stopwatch.Frequency);
        // Replay pacing, per event: an event is read when the wall clock reaches its time (scaled by Speed), as a
        // live tracer would deliver it, rather than a whole batch early and then a wait.
        double ticksPerEventNs = _options.Speed > 0 ? Stopwatch.Frequency / 1e9 / _options.Speed : 0;
        long slackTicks = Stopwatch.Frequency / 1000;
        while (source.MoveNext())
        {
            var e = source.Current;
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
                _sink.Send(key, records.Inventory(_source.Inventory(opened)), false, cancellationToken);
                Counters.Inventories++;
                lastInventory = now;
            }
            if (Stopwatch.GetElapsedTime(lastHealth, now) >= _options.HealthInterval)
            {
                NoteDiagnostics(TraceOpener.DiagnosticsOf(opened));
                _sink.Send(key, records.AgentHealth(Counters.Snapshot(DateTimeOffset.UtcNow)), false, cancellationToken);
                lastHealth = now;
            }
        }
        Counters.EventsRead = read;
        if (batches.EventCount > 0)
            SendBatch(key, batches, cancellationToken);
        NoteDiagnostics(TraceOpener.DiagnosticsOf(opened));
        LastShiftNs = events?.ShiftNs ?? 0;
        // Final counters: after the flush every record before this one is acknowledged, so they are the replay's totals.
        _sink.Flush(_options.ShutdownFlushTimeout);
        _sink.Send(key, records.AgentHealth(Counters.Snapshot(DateTimeOffset.UtcNow)), false, cancellationToken);
        if (maxSeen != long.MinValue)
        {
            LastEventTime = maxSeen;
            _sink.Send(key, records.Heartbeat(maxSeen), true, cancellationToken);
            Counters.Heartbeats++;
        }
    }

    /// <summary>
    /// A live source never ends by itself: reads wait at most a short time, so that while the host is quiet
    /// the batch still goes out and a heartbeat at the source's watermark closes the worker's windows. The
    /// host is rescanned for VMs every <see cref="AgentOptions.InventoryCheckInterval"/>. Cancellation asks the
    /// source to stop; what it still holds is drained and sent, then a session-end heartbeat.
    /// </summary>
    private void RunLive(EventSource events, ILiveEventSource live, HostRecordWriter records, EventBatchWriter batches,
        WireInventory inventory, CancellationToken cancellationToken)
    {
        string key = _source.HostId;
        // Sends go on while the source drains after a stop; they give up only if Kafka takes nothing for
        // ShutdownFlushTimeout (a full buffer blocks a send).
        using var sendCancel = new CancellationTokenSource();
        using var onStop = cancellationToken.Register(() => sendCancel.CancelAfter(_options.ShutdownFlushTimeout));
        var send = sendCancel.Token;
        var wait = TimeSpan.FromTicks(Math.Clamp(_options.HeartbeatInterval.Ticks / 4, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
        string sentInventory = InventoryKey(inventory);
        long lastHeartbeat = _time.GetTimestamp(), lastInventory = lastHeartbeat, lastScan = lastHeartbeat, lastHealth = lastHeartbeat;
        long lastSent = long.MinValue, batchMax = long.MinValue, heartbeatMark = long.MinValue, read = 0;
        bool stopping = false, qemuStarted = false;
        var qemuStarts = new QemuStartWatch();
        while (true)
        {
            if (!stopping && cancellationToken.IsCancellationRequested)
            {
                live.RequestStop();
                stopping = true;
            }
            var result = live.TryMoveNext(wait);
            if (result == LiveReadResult.End)
                break;
            if (result == LiveReadResult.Event)
            {
                long t = events.Current.Timestamp;
                if (t > batchMax)
                    batchMax = t;
                batches.Append(events.Current);
                read++;
                qemuStarted |= !stopping && qemuStarts.IsQemuStart(events.Current);
                if (batches.IsFull)
                {
                    Counters.EventsRead = read;
                    SendBatch(key, batches, send);
                    lastSent = batchMax;
                }
                else if ((read & 1023) != 0 && !qemuStarted)
                {
                    continue; // the clock is read once per 1024 events on a busy host, and on every idle read
                }
            }
            long now = _time.GetTimestamp();
            if (_time.GetElapsedTime(lastHeartbeat, now) >= _options.HeartbeatInterval)
            {
                // Events read are sent before the heartbeat: its watermark may then be the newest one sent and,
                // after an idle read, the source's watermark (every event at or before it has been read).
                Counters.EventsRead = read;
                if (batches.EventCount > 0)
                {
                    SendBatch(key, batches, send);
                    lastSent = batchMax;
                }
                long mark = lastSent;
                if (result == LiveReadResult.Idle && live.Watermark != long.MaxValue)
                    mark = Math.Max(mark, live.Watermark);
                if (mark > heartbeatMark)
                {
                    _sink.Send(key, records.Heartbeat(mark), false, send);
                    Counters.Heartbeats++;
                    heartbeatMark = mark;
                }
                NoteDiagnostics(live.CollectDiagnostics());
                lastHeartbeat = now;
            }
            if (_time.GetElapsedTime(lastHealth, now) >= _options.HealthInterval)
            {
                Counters.EventsRead = read;
                _sink.Send(key, records.AgentHealth(Counters.Snapshot(_time.GetUtcNow())), false, send);
                lastHealth = now;
            }
            if (!stopping && (qemuStarted || _time.GetElapsedTime(lastScan, now) >= _options.InventoryCheckInterval))
            {
                // The scan also makes the source follow the trace log of a VM started since.
                var current = _source.Inventory(events);
                string currentKey = InventoryKey(current);
                if (currentKey != sentInventory || _time.GetElapsedTime(lastInventory, now) >= _options.InventoryInterval)
                {
                    if (qemuStarted && batches.EventCount > 0)
                    {
                        // The events up to the exec go first, then the inventory, then the new VM's events.
                        Counters.EventsRead = read;
                        SendBatch(key, batches, send);
                        lastSent = batchMax;
                    }
                    _sink.Send(key, records.Inventory(current), false, send);
                    Counters.Inventories++;
                    sentInventory = currentKey;
                    lastInventory = now;
                }
                lastScan = now;
                qemuStarted = false;
            }
        }
        Counters.EventsRead = read;
        if (batches.EventCount > 0)
        {
            SendBatch(key, batches, send);
            lastSent = batchMax;
        }
        NoteDiagnostics(live.CollectDiagnostics());
        // Final counters, once Kafka acknowledged everything before them (as at the end of a replay).
        _sink.Flush(_options.ShutdownFlushTimeout);
        _sink.Send(key, records.AgentHealth(Counters.Snapshot(_time.GetUtcNow())), false, send);
        // The session ends at its last event (as a replay's) or, if later, at its last heartbeat: windows up to there
        // were closed already.
        long end = Math.Max(lastSent, heartbeatMark);
        if (end != long.MinValue)
        {
            _sink.Send(key, records.Heartbeat(end), true, send);
            Counters.Heartbeats++;
        }
    }

    /// <summary>What an inventory says, without its sampling time: two scans that found the same VMs give the same key.</summary>
    private static string InventoryKey(WireInventory inventory)
    {
        var text = new System.Text.StringBuilder();
        foreach (var vm in inventory.Vms)
        {
            text.Append(vm.Name).Append('|').Append(vm.Pid).Append('|').Append(vm.Uuid).Append('|').AppendJoin(',', vm.TapDevices).Append('|');
            foreach (var t in vm.Threads)
                text.Append(t.Tid).Append(':').Append(t.Comm).Append(':').Append(t.VcpuIndex).Append(',');
            text.Append('\n');
        }
        foreach (var n in inventory.ThreadNames)
            text.Append(n.Tid).Append(':').Append(n.Comm).Append(',');
        return text.ToString();
    }

    /// <summary>What the decoders reported so far: events the tracer lost, damaged places skipped.</summary>
    private void NoteDiagnostics(SourceDiagnostics diagnostics)
    {
        Counters.TracerLostEvents = diagnostics.LostEvents;
        Counters.DecodeErrors = diagnostics.ErrorCount;
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
