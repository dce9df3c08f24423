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
/// When a batch goes out and how fast a replay runs is <see cref="AgentPacing"/>'s, on the injected clock.
/// </summary>
public sealed class AgentPipeline
{
    private readonly IAgentSource _source;
    private readonly IRecordSink _sink;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly AgentPacing _pacing;

    /// <param name="time">The clock of the pacing, the heartbeat, inventory and health intervals (tests pass a fake one).</param>
    public AgentPipeline(IAgentSource source, IRecordSink sink, AgentOptions options, AgentCounters? counters = null, TimeProvider? time = null)
    {
        _source = source;
        _sink = sink;
        _options = options;
        _time = time ?? TimeProvider.System;
        _pacing = new AgentPacing(options, _time);
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
        var source = opened;
        var records = new HostRecordWriter(_source.HostId, Guid.NewGuid().ToString("N"));
        // With guest traces, each event says whose it is (host 0, guest n), and the batches name the guests.
        var fused = opened as FusedEventSource;
        var batches = new EventBatchWriter(records, _pacing.BatchLimits())
        {
            Clock = source.Clock,
            CpuCount = source.CpuCount,
            GuestNames = fused?.Bindings.Select(b => b.Name).ToList() ?? [],
        };
        Counters.CountCpusOf(batches);
        string key = _source.HostId;
        var inventory = _source.Inventory(opened);
        _sink.Send(key, records.Inventory(inventory), false, cancellationToken);
        Counters.Inventories++;
        if (opened is ILiveEventSource live)
        {
            RunLive(opened, live, records, batches, inventory, cancellationToken);
            return;
        }

        var pacing = _pacing;
        pacing.StartReplay();
        long started = pacing.Now();
        var heartbeats = pacing.Heartbeats(started);
        var inventories = pacing.Inventories(started);
        var health = pacing.HealthRecords(started);
        long lastSent = long.MinValue, maxSeen = long.MinValue, batchMax = long.MinValue;
        long read = Counters.EventsRead;
        // A shifted replay: every event's time plus a shift fixed at the first event (ReplayTimingOptions.ShiftFor
        // needs it), added here and by the batch writer rather than by a wrapping source (one call and copy less per event).
        bool shiftPending = pacing.ShiftsReplay;
        long shift = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            if (shiftPending)
            {
                shift = pacing.ReplayShift(e.Timestamp, LastEventTime);
                shiftPending = false;
            }
            long t = e.Timestamp + shift;
            // Paced: an event is read when the clock reaches its time, as a live tracer would deliver it, rather than
            // a whole batch early and then a wait. A quiet stretch: what was read goes out first if the wait would hold it too long.
            if (pacing.MustWaitFor(t, out long due))
            {
                if (batches.EventCount > 0 && pacing.WouldHoldTooLong(due))
                    Send();
                pacing.WaitUntil(due, cancellationToken);
            }
            if (t > maxSeen)
                maxSeen = t;
            if (t > batchMax)
                batchMax = t;
            if (batches.EventCount == 0)
                pacing.BatchStarted();
            batches.Append(e, fused?.CurrentGuest ?? 0, shift);
            read++;
            // A slow host's batch leaves after BatchMaxDelay instead of waiting for BatchMaxSpan of its events.
            if (batches.IsFull || (AgentPacing.ClockCheckDue(read) && pacing.BatchHeldTooLong(batches.EventCount, pacing.Now())))
                Send();
        }

        void Send()
        {
            Counters.EventsRead = read;
            SendBatch(key, batches, cancellationToken);
            lastSent = batchMax;
            long now = pacing.Now();
            if (heartbeats.TakeIfDue(now))
            {
                _sink.Send(key, records.Heartbeat(lastSent), false, cancellationToken);
                Counters.Heartbeats++;
            }
            if (inventories.TakeIfDue(now))
            {
                _sink.Send(key, records.Inventory(_source.Inventory(opened)), false, cancellationToken);
                Counters.Inventories++;
            }
            if (health.TakeIfDue(now))
            {
                NoteDiagnostics(TraceOpener.DiagnosticsOf(fused?.Merged ?? opened));
                _sink.Send(key, records.AgentHealth(Counters.Snapshot(_time.GetUtcNow())), false, cancellationToken);
            }
        }
        Counters.EventsRead = read;
        if (batches.EventCount > 0)
            SendBatch(key, batches, cancellationToken);
        NoteDiagnostics(TraceOpener.DiagnosticsOf(fused?.Merged ?? opened));
        LastShiftNs = shift;
        // Final counters: after the flush every record before this one is acknowledged, so they are the replay's totals.
        _sink.Flush(_options.ShutdownFlushTimeout);
        _sink.Send(key, records.AgentHealth(Counters.Snapshot(_time.GetUtcNow())), false, cancellationToken);
        if (maxSeen != long.MinValue)
        {
            LastEventTime = maxSeen;
            _sink.Send(key, records.Heartbeat(maxSeen), true, cancellationToken);
            Counters.Heartbeats++;
        }
    }

    /// <summary>
    /// A live source never ends by itself: reads wait at most <see cref="AgentPacing.LiveReadWait"/>, so that while the
    /// host is quiet the batch still goes out (after <see cref="AgentOptions.BatchMaxDelay"/>, or with the next heartbeat)
    /// and a heartbeat at the source's watermark closes the worker's windows. The
    /// host is rescanned for VMs every <see cref="AgentOptions.InventoryCheckInterval"/>. Cancellation asks the
    /// source to stop; what it still holds is drained and sent, then a session-end heartbeat.
    /// </summary>
    private void RunLive(EventSource events, ILiveEventSource live, HostRecordWriter records, EventBatchWriter batches,
        WireInventory inventory, CancellationToken cancellationToken)
    {
        string key = _source.HostId;
        // Sends go on while the source drains after a stop; they give up only if Kafka takes nothing for
        // ShutdownFlushTimeout (a full buffer blocks a send).
        using var sendCancel = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var onStop = cancellationToken.Register(() => sendCancel.CancelAfter(_options.ShutdownFlushTimeout));
        var send = sendCancel.Token;
        var pacing = _pacing;
        var wait = pacing.LiveReadWait;
        string sentInventory = InventoryKey(inventory);
        long started = pacing.Now();
        var heartbeats = pacing.Heartbeats(started);
        var inventories = pacing.Inventories(started);
        var scans = pacing.InventoryScans(started);
        var health = pacing.HealthRecords(started);
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
                if (batches.EventCount == 0)
                    pacing.BatchStarted();
                batches.Append(events.Current);
                read++;
                qemuStarted |= !stopping && qemuStarts.IsQemuStart(events.Current);
                if (batches.IsFull)
                {
                    Counters.EventsRead = read;
                    SendBatch(key, batches, send);
                    lastSent = batchMax;
                }
                else if (!AgentPacing.ClockCheckDue(read) && !qemuStarted)
                {
                    continue; // the clock is read once per ClockCheckEvents events on a busy host, and on every idle read
                }
            }
            long now = pacing.Now();
            if (pacing.BatchHeldTooLong(batches.EventCount, now))
            {
                Counters.EventsRead = read;
                SendBatch(key, batches, send);
                lastSent = batchMax;
            }
            if (heartbeats.TakeIfDue(now))
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
            }
            if (health.TakeIfDue(now))
            {
                Counters.EventsRead = read;
                _sink.Send(key, records.AgentHealth(Counters.Snapshot(_time.GetUtcNow())), false, send);
            }
            if (!stopping && (qemuStarted || scans.IsDue(now)))
            {
                // The scan also makes the source follow the trace log of a VM started since.
                var current = _source.Inventory(events);
                string currentKey = InventoryKey(current);
                if (currentKey != sentInventory || inventories.IsDue(now))
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
                    inventories.Done(now);
                }
                scans.Done(now);
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
