using System.Text;
using Vmtrace.Analysis;
using Vmtrace.InfluxDb;
using Vmtrace.Wire;

namespace Vmtrace.Worker;

/// <summary>
/// Feeds records (Kafka values) of one partition into the host analyses and collects the points of the
/// windows they close. Pure: no Kafka, no InfluxDB, no clock; the same records give the same points,
/// which is what makes a restart from a checkpoint exact.
/// </summary>
internal sealed class RecordProcessor
{
    private readonly WorkerOptions _options;
    private readonly EventBatchReader _reader = new();
    private readonly StringBuilder _text = new();
    private readonly LineProtocolWriter _lines;

    public RecordProcessor(WorkerOptions options)
    {
        _options = options;
        _lines = new LineProtocolWriter(_text);
    }

    public WorkerCounters Counters { get; } = new();

    /// <param name="sessionEnd">The record carries the session-end header (a final heartbeat).</param>
    /// <param name="points">Receives the points (one line each, no newline) of the windows closed.</param>
    public RecordOutcome Process(PartitionState state, byte[]? value, bool sessionEnd, List<string> points)
    {
        Counters.RecordsIn++;
        if (value is null || value.Length == 0)
            return RecordOutcome.Dead("empty record value");
        HostRecord record;
        try
        {
            record = HostRecord.Read(value);
        }
        catch (WireFormatException ex)
        {
            return RecordOutcome.Dead("not a vmtrace record: " + ex.Message, ex);
        }

        if (record.Kind == HostRecordKind.AgentHealth)
            return ProcessAgentHealth(record, points); // counters only: no analysis or session state is touched

        var host = state.Host(record.HostId);
        if (host.SessionId != record.SessionId)
        {
            // A new agent session: the previous one ended without saying so (agent crash); close what it left.
            if (host.Analysis is { } old)
            {
                old.Flush(old.Now);
                Emit(host, points, long.MinValue, final: true);
                Counters.SessionsCutShort++;
            }
            host.Analysis = null;
            host.AppliedInventory = "";
            host.SessionId = record.SessionId;
        }

        switch (record.Kind)
        {
            case HostRecordKind.Inventory:
            {
                WireInventory inventory;
                try
                {
                    inventory = record.ReadInventory();
                }
                catch (WireFormatException ex)
                {
                    return RecordOutcome.Dead("damaged inventory: " + ex.Message, ex);
                }
                host.Inventory = inventory;
                Counters.Inventories++;
                if (host.Analysis is { } analysis)
                    ApplyIfChanged(host, analysis);
                break;
            }
            case HostRecordKind.Heartbeat:
            {
                long watermark;
                try
                {
                    watermark = record.ReadWatermark();
                }
                catch (WireFormatException ex)
                {
                    return RecordOutcome.Dead("damaged heartbeat: " + ex.Message, ex);
                }
                Counters.Heartbeats++;
                if (host.Analysis is { } analysis)
                {
                    long openWindow = analysis.OpenWindowStart;
                    if (sessionEnd)
                        analysis.Flush(watermark);
                    else
                        analysis.AdvanceWatermark(watermark);
                    Counters.NoteWatermark(watermark);
                    Emit(host, points, openWindow, final: sessionEnd);
                }
                if (sessionEnd)
                {
                    state.Hosts.Remove(host.HostId);
                    Counters.SessionsEnded++;
                }
                break;
            }
            case HostRecordKind.EventBatch:
                return ProcessBatch(host, record, points);
        }
        return RecordOutcome.Ok;
    }

    /// <summary>
    /// The agent's counters as one <c>pipeline_health</c> point (component=agent, host) at the agent's sampling time:
    /// the time comes from the record, so reprocessing it after a restart rewrites the same point.
    /// </summary>
    private RecordOutcome ProcessAgentHealth(HostRecord record, List<string> points)
    {
        WireAgentHealth h;
        try
        {
            h = record.ReadAgentHealth();
        }
        catch (WireFormatException ex)
        {
            return RecordOutcome.Dead("damaged agent health: " + ex.Message, ex);
        }
        _text.Clear();
        _lines.Begin("pipeline_health").Tag("component", "agent").NameTag("host", record.HostId)
            .Field("events_read", h.EventsRead).Field("events_sent", h.EventsSent).Field("events_skipped", h.EventsSkipped)
            .Field("tracer_lost_events", h.TracerLostEvents).Field("batches", h.Batches).Field("batch_bytes", h.BatchBytes)
            .Field("records_produced", h.RecordsProduced).Field("records_delivered", h.RecordsDelivered).Field("delivery_errors", h.DeliveryErrors)
            .Field("buffered_records", h.BufferedRecords).Field("buffered_bytes", h.BufferedBytes).Field("buffered_bytes_peak", h.BufferedBytesPeak)
            .Field("buffer_capacity_bytes", h.BufferCapacityBytes).Field("buffer_full_waits", h.BufferFullWaits).Field("buffer_full_wait_ns", h.BufferFullWaitNs)
            .Field("decode_errors", h.DecodeErrors)
            .End(h.SampledAtUnixNs);
        points.Add(_text.ToString().TrimEnd('\n'));
        Counters.AgentHealthRecords++;
        return RecordOutcome.Ok;
    }

    private RecordOutcome ProcessBatch(HostStream host, HostRecord record, List<string> points)
    {
        long fed = 0;
        long openWindow = long.MinValue; // the analysis's open window before this batch (none yet: MinValue)
        try
        {
            _reader.Load(record);
            var analysis = host.Analysis;
            if (analysis is null && _reader.EventCount > 0)
            {
                analysis = new HostAnalysis(new AnalysisOptions
                {
                    WindowNs = _options.Window.Ticks * 100,
                    TopInterferers = _options.TopInterferers,
                    CpuCount = _reader.CpuCount,
                });
                host.Analysis = analysis;
                if (host.Inventory is not null)
                    ApplyIfChanged(host, analysis);
            }
            if (analysis is null)
                return RecordOutcome.Ok;
            if (analysis.Counters.Events > 0)
                openWindow = analysis.OpenWindowStart;
            long last = long.MinValue;
            while (_reader.MoveNext())
            {
                var e = _reader.Current;
                analysis.OnEvent(e);
                last = e.Timestamp;
                fed++;
            }
            Counters.EventsIn += fed;
            Counters.TracerSkippedEvents += _reader.SkippedEvents;
            if (last != long.MinValue)
                Counters.NoteEventTime(last);
            Emit(host, points, openWindow, final: false);
            return RecordOutcome.Ok;
        }
        catch (WireFormatException ex)
        {
            Counters.EventsIn += fed;
            if (host.Analysis is not null)
                Emit(host, points, openWindow, final: false);
            // Deterministic: a reprocessed damaged batch feeds the same events before failing at the same place.
            return RecordOutcome.Dead($"damaged event batch (host {record.HostId}, sequence {record.Sequence}, {fed} events used before the damage): {ex.Message}", ex);
        }
    }

    private static void ApplyIfChanged(HostStream host, HostAnalysis analysis)
    {
        var inventory = host.Inventory!;
        string canonical = InventoryMapping.Canonical(inventory);
        if (canonical == host.AppliedInventory)
            return;
        InventoryMapping.Apply(analysis, inventory);
        host.AppliedInventory = canonical;
    }

    /// <param name="openWindowBefore">
    /// The analysis's open window before the record was applied (<see cref="long.MinValue"/> when it started with
    /// this record). When windows closed, the host's analysis counters are written once, in event time at the last
    /// closed window's start: the same point again when the same records are processed again.
    /// </param>
    /// <param name="final">The analysis was flushed: its final counters are written.</param>
    private void Emit(HostStream host, List<string> points, long openWindowBefore, bool final)
    {
        var analysis = host.Analysis!;
        long lastWindowStart = long.MinValue;
        foreach (var window in analysis.TakeClosedWindows())
        {
            lastWindowStart = window.StartNs;
            _text.Clear();
            MetricsLineProtocol.Write(_lines, window, host.HostId);
            foreach (var line in _text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                points.Add(line);
                Counters.PointsQueued++;
            }
            Counters.WindowsClosed++;
            Counters.NoteWindowClosed(window.EndNs);
        }
        // Windows without VMs close without a point: the window boundary moving on says they closed.
        bool moved = openWindowBefore != long.MinValue && analysis.OpenWindowStart != openWindowBefore;
        if (final || moved || lastWindowStart != long.MinValue)
        {
            long at = lastWindowStart != long.MinValue ? lastWindowStart
                : final ? analysis.Now : analysis.OpenWindowStart - _options.Window.Ticks * 100;
            _text.Clear();
            AnalysisHealthLineProtocol.Write(_lines, host.HostId, analysis.Counters, at);
            points.Add(_text.ToString().TrimEnd('\n'));
            Counters.PointsQueued++;
        }
    }
}
