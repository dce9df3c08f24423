using System.Text;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
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
    private int[] _guestIndex = new int[1];

    public RecordProcessor(WorkerOptions options)
        : this(options, new WorkerCounters())
    {
    }

    public RecordProcessor(WorkerOptions options, WorkerCounters counters)
    {
        _options = options;
        Counters = counters;
        _lines = new LineProtocolWriter(_text);
    }

    public WorkerCounters Counters { get; }

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

        // The whole record is read and checked before any host state changes: a damaged record (even one naming a
        // real host under another session) is dead-lettered and leaves the host exactly as it was.
        WireInventory? inventory = null;
        long watermark = 0;
        try
        {
            switch (record.Kind)
            {
                case HostRecordKind.Inventory:
                    inventory = record.ReadInventory();
                    break;
                case HostRecordKind.Heartbeat:
                    watermark = record.ReadWatermark();
                    break;
                default:
                    ValidateBatch(record);
                    if (_reader.Clock == TraceClockKind.Cycles && !_options.AcceptRawCycles)
                        return RefuseCycles(record);
                    if (UnknownGuest(state, record) is { } guest)
                    {
                        return RecordOutcome.Dead($"event batch (host {record.HostId}, session {record.SessionId}, sequence {record.Sequence}) carries events of guest '{guest}', "
                            + "which the session's inventory does not list (or which came after the host analysis started)");
                    }
                    break;
            }
        }
        catch (WireFormatException ex)
        {
            string what = record.Kind switch
            {
                HostRecordKind.Inventory => "damaged inventory",
                HostRecordKind.Heartbeat => "damaged heartbeat",
                _ => "damaged event batch",
            };
            return RecordOutcome.Dead($"{what} (host {record.HostId}, session {record.SessionId}, sequence {record.Sequence}): {ex.Message}", ex);
        }

        var host = state.Host(record.HostId);
        if (host.SessionId != record.SessionId)
        {
            // A new agent session: the previous one ended without saying so (agent killed). Its open window is
            // dropped, not flushed: the restarted agent sends that window's events again (a replay) or covers the
            // rest of it (a live host), so a window cut at the crash would only leave points analyze never gives.
            if (host.Analysis is not null)
                Counters.SessionsCutShort++;
            host.Analysis = null;
            host.AppliedInventory = "";
            host.SessionId = record.SessionId;
        }

        switch (record.Kind)
        {
            case HostRecordKind.Inventory:
            {
                host.Inventory = inventory;
                Counters.Inventories++;
                if (host.Analysis is { } analysis)
                    ApplyIfChanged(host, analysis);
                break;
            }
            case HostRecordKind.Heartbeat:
            {
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
                    if (sessionEnd)
                        EmitGuests(host, points, watermark);
                }
                if (sessionEnd)
                {
                    state.Hosts.Remove(host.HostId);
                    Counters.SessionsEnded++;
                }
                break;
            }
            case HostRecordKind.EventBatch:
                FeedBatch(host, record, points);
                break;
        }
        return RecordOutcome.Ok;
    }

    /// <summary>
    /// Ends a host whose agent went silent (<see cref="IdleHosts"/>): its open window closes at its last event or
    /// watermark, as a session end would close it, and the host is forgotten.
    /// </summary>
    public void EndSilentHost(PartitionState state, HostStream host, List<string> points)
    {
        if (host.Analysis is { } analysis)
        {
            analysis.Flush(analysis.Now);
            Emit(host, points, long.MinValue, final: true);
            EmitGuests(host, points, analysis.Now);
        }
        state.Hosts.Remove(host.HostId);
        Counters.HostsTimedOut++;
    }

    /// <summary>
    /// A batch whose times are raw TSC cycles (from an agent that does not refuse such a trace): every point the worker
    /// writes counts nanoseconds (<c>*_ns</c> fields), so the batch is dead-lettered with the reason and the host's
    /// state is left untouched; the session's analysis never starts, so nothing of it reaches InfluxDB.
    /// </summary>
    private static RecordOutcome RefuseCycles(HostRecord record) => RecordOutcome.Dead(
        $"event batch in raw TSC cycles (host {record.HostId}, session {record.SessionId}, sequence {record.Sequence}): the pipeline stores nanoseconds, "
        + "so the worker does not analyse it; record with a nanosecond clock and replay with a current agent (it refuses such traces), "
        + "or read the trace with `vmtrace analyze` (in cycles)");

    /// <summary>Checks every event of the batch without feeding it: every length, index and column (<see cref="EventBatchReader.Validate"/>).</summary>
    private void ValidateBatch(HostRecord record)
    {
        _reader.Load(record);
        _reader.Validate();
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

    /// <summary>Feeds a batch <see cref="ValidateBatch"/> has checked whole.</summary>
    private void FeedBatch(HostStream host, HostRecord record, List<string> points)
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
            {
                ApplyIfChanged(host, analysis);
                AttachGuests(analysis, host.Inventory);
            }
        }
        if (analysis is null)
            return;
        // Guest events go to the fused analysis by the guest's place in it (the batch names its guests).
        var fused = analysis.Guests;
        var guestIndex = _guestIndex;
        if (_reader.GuestNames.Count > 0)
        {
            if (guestIndex.Length < _reader.GuestNames.Count + 1)
                _guestIndex = guestIndex = new int[_reader.GuestNames.Count + 1];
            for (int i = 0; i < _reader.GuestNames.Count; i++)
                guestIndex[i + 1] = IndexOf(fused!.GuestNames, _reader.GuestNames[i]);
        }
        // The analysis's open window before this batch (none yet: MinValue).
        long openWindow = analysis.Counters.Events > 0 ? analysis.OpenWindowStart : long.MinValue;
        long last = long.MinValue, fed = 0;
        while (_reader.MoveNext())
        {
            var e = _reader.Current;
            int guest = _reader.CurrentGuest;
            if (guest == 0)
            {
                analysis.OnEvent(e);
                fused?.AfterHostEvent();
            }
            else
            {
                fused!.OnGuestEvent(guestIndex[guest], e);
            }
            last = e.Timestamp;
            fed++;
        }
        Counters.EventsIn += fed;
        Counters.TracerSkippedEvents += _reader.SkippedEvents;
        if (last != long.MinValue)
            Counters.NoteEventTime(last);
        Emit(host, points, openWindow, final: false);
    }

    /// <summary>
    /// The first guest a validated batch names that the host's fused analysis (or, before the analysis starts, its
    /// inventory) does not have; null when it has them all.
    /// </summary>
    private string? UnknownGuest(PartitionState state, HostRecord record)
    {
        if (_reader.GuestNames.Count == 0)
            return null;
        state.Hosts.TryGetValue(record.HostId, out var host);
        bool sameSession = host is not null && host.SessionId == record.SessionId;
        var known = new List<string>();
        if (sameSession && host!.Analysis is { } analysis)
            known.AddRange(analysis.Guests?.GuestNames ?? []);
        else if (sameSession)
            known.AddRange(host!.Inventory?.Guests.Select(g => g.Name) ?? []);
        return _reader.GuestNames.FirstOrDefault(n => IndexOf(known, n) < 0);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    /// <summary>The guests of the inventory, attached to the analysis as it starts (as <c>vmtrace analyze --guest</c> does).</summary>
    private static void AttachGuests(HostAnalysis analysis, WireInventory inventory)
    {
        if (inventory.Guests.Count == 0)
            return;
        // A repeated CPU or tid (a damaged inventory) keeps its last value rather than stopping the worker.
        var fused = analysis.AttachGuests(inventory.Guests.Select(g => new GuestBinding(g.Name, g.Cpus.Count == 0 ? null : Map(g.Cpus))).ToList());
        for (int i = 0; i < inventory.Guests.Count; i++)
        {
            var names = new Dictionary<int, string>();
            foreach (var n in inventory.Guests[i].ThreadNames)
                names[n.Tid] = n.Comm;
            fused.AddGuestThreadNames(i, names);
        }

        static Dictionary<int, int> Map(IReadOnlyList<WireGuestCpu> cpus)
        {
            var map = new Dictionary<int, int>();
            foreach (var c in cpus)
                map[c.Cpu] = c.HostTid;
            return map;
        }
    }

    /// <summary>At the end of a session: one <c>vmtrace_guest_thread</c> point per guest thread, at the range's end, as analyze writes them.</summary>
    private void EmitGuests(HostStream host, List<string> points, long endNs)
    {
        if (host.Analysis?.Guests is not { } fused)
            return;
        foreach (var guest in fused.Finish(cutNs: null))
        {
            _text.Clear();
            GuestLineProtocol.Write(_lines, guest, host.HostId, endNs);
            foreach (var line in _text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                points.Add(line);
                Counters.PointsQueued++;
            }
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
            MetricsLineProtocol.WriteWindow(_lines, window, host.HostId);
            foreach (var line in _text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                points.Add(line);
                Counters.PointsQueued++;
            }
            Counters.WindowsClosed++;
            Counters.NoteWindowClosed(window.EndNs);
        }
        // Episodes close with windows (or at the flush): their points follow the windows', written by the same code as analyze's.
        foreach (var episode in analysis.TakeClosedEpisodes())
        {
            _text.Clear();
            EpisodeLineProtocol.Write(_lines, episode, host.HostId);
            points.Add(_text.ToString().TrimEnd('\n'));
            Counters.PointsQueued++;
        }
        // Windows without VMs close without a point: the window boundary moving on says they closed.
        bool moved = openWindowBefore != long.MinValue && analysis.OpenWindowStart != openWindowBefore;
        if (final || moved || lastWindowStart != long.MinValue)
        {
            long at = lastWindowStart != long.MinValue ? lastWindowStart
                : final ? analysis.Now : analysis.OpenWindowStart - _options.Window.Ticks * 100;
            _text.Clear();
            AnalysisHealthLineProtocol.Write(_lines, host.HostId, analysis.Counters, at);
            Counters.NoteAnalysis(host.HostId, analysis.Counters);
            points.Add(_text.ToString().TrimEnd('\n'));
            Counters.PointsQueued++;
        }
    }
}
