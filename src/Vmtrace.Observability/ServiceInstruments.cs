using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.InfluxDb;
using Vmtrace.Worker;

namespace Vmtrace.Observability;

/// <summary>
/// The service's counters as OpenTelemetry instruments: every instrument is observed from the counters the service
/// keeps anyway (<see cref="AgentCounters"/>, <see cref="WorkerCounters"/>, <see cref="InfluxWriteCounters"/>,
/// <see cref="AnalysisCounters"/>), read at each scrape; nothing is counted twice. The names are the Prometheus
/// names (the exporter adds <c>_total</c> to counters and <c>_seconds</c> to durations): docs/observability.md lists them.
/// </summary>
public sealed class ServiceInstruments(IServiceProvider services, InstrumentsMeterName meterName) : IDisposable
{
    /// <summary>The start of the meter's name (the rest is the host's own); not part of the exported names.</summary>
    public const string MeterPrefix = "Vmtrace.";

    private Meter? _meter;

    /// <summary>Creates the instruments of the services the host runs; once.</summary>
    public void Start()
    {
        if (_meter is not null)
            return;
        _meter = new Meter(meterName.Name);
        if (services.GetService<AgentService>() is { } agent)
            AddAgent(_meter, agent.Counters);
        if (services.GetService<WorkerService>() is { } worker)
        {
            AddWorker(_meter, worker);
            if (services.GetService<InfluxClient>() is { } influx)
                AddInflux(_meter, influx.Counters);
            AddAnalysis(_meter, worker.Counters);
        }
    }

    private static void AddAgent(Meter m, AgentCounters c)
    {
        m.CreateObservableCounter("vmtrace_agent_events_read", () => ByCpu(c.EventsReadByCpu()), description: "Events read from the trace, per CPU (cpu=\"none\": events without a CPU).");
        m.CreateObservableCounter("vmtrace_agent_events_sent", () => c.EventsSent, description: "Events put into batches.");
        m.CreateObservableCounter("vmtrace_agent_events_skipped", () => c.EventsSkipped, description: "Events the wire selection left out (Agent:DropUninterpretedEvents).");
        m.CreateObservableCounter("vmtrace_agent_events_lost", () => c.TracerLostEvents, description: "Events the tracer reported lost before the agent saw them.");
        m.CreateObservableCounter("vmtrace_agent_decode_errors", () => c.DecodeErrors, description: "Damaged places the decoders skipped.");
        m.CreateObservableCounter("vmtrace_agent_batches", () => c.Batches, description: "Event batches produced.");
        m.CreateObservableCounter("vmtrace_agent_batch_bytes", () => c.BatchBytes, description: "Bytes of the event batches produced.");
        m.CreateObservableCounter("vmtrace_agent_heartbeats", () => c.Heartbeats, description: "Watermark heartbeats produced.");
        m.CreateObservableCounter("vmtrace_agent_inventories", () => c.Inventories, description: "Inventories produced.");
        m.CreateObservableCounter("vmtrace_agent_records_produced", () => c.RecordsProduced, description: "Records (every kind) handed to Kafka's producer.");
        m.CreateObservableCounter("vmtrace_agent_records_delivered", () => c.Delivered, description: "Records Kafka acknowledged.");
        m.CreateObservableCounter("vmtrace_agent_delivery_errors", () => c.DeliveryErrors, description: "Records Kafka did not take after its retries.");
        m.CreateObservableCounter("vmtrace_agent_buffer_full_waits", () => c.BufferFullWaits, description: "Times the source waited for buffer space (Kafka slow or down).");
        m.CreateObservableCounter("vmtrace_agent_buffer_full_wait", () => c.BufferFullWaitTime.TotalSeconds, unit: "s", description: "Time the source waited for buffer space.");
        m.CreateObservableGauge("vmtrace_agent_buffered_records", () => c.BufferedRecords, description: "Records produced, not yet acknowledged or refused.");
        m.CreateObservableGauge("vmtrace_agent_buffered_bytes", () => c.BufferedBytes, description: "Bytes of the buffered records.");
        m.CreateObservableGauge("vmtrace_agent_buffer_capacity_bytes", () => c.BufferCapacityBytes, description: "The buffer's bound (Agent:MaxBufferedKiB).");
        m.CreateObservableGauge("vmtrace_agent_source_blocked", () => c.SourceBlocked ? 1 : 0, description: "1 while the source waits for buffer space.");
    }

    private static IEnumerable<Measurement<long>> ByCpu(IReadOnlyList<long> byCpu)
    {
        // Index 0 holds the events without a CPU (-1), index i + 1 those of CPU i.
        for (int i = 0; i < byCpu.Count; i++)
        {
            if (byCpu[i] == 0)
                continue;
            string cpu = i == 0 ? "none" : (i - 1).ToString(CultureInfo.InvariantCulture);
            yield return new Measurement<long>(byCpu[i], new KeyValuePair<string, object?>("cpu", cpu));
        }
    }

    private static void AddWorker(Meter m, WorkerService worker)
    {
        var c = worker.Counters;
        m.CreateObservableCounter("vmtrace_worker_records_in", () => c.RecordsIn, description: "Kafka records consumed.");
        m.CreateObservableCounter("vmtrace_worker_events_in", () => c.EventsIn, description: "Events fed to the analyses.");
        m.CreateObservableCounter("vmtrace_worker_agent_skipped_events", () => c.TracerSkippedEvents, description: "Events the agents' selection left out, as their batches report.");
        m.CreateObservableCounter("vmtrace_worker_inventories", () => c.Inventories, description: "Inventories received.");
        m.CreateObservableCounter("vmtrace_worker_heartbeats", () => c.Heartbeats, description: "Heartbeats received.");
        m.CreateObservableCounter("vmtrace_worker_agent_health_records", () => c.AgentHealthRecords, description: "Agent health records turned into pipeline_health points.");
        m.CreateObservableCounter("vmtrace_worker_windows_closed", () => c.WindowsClosed, description: "Analysis windows closed.");
        m.CreateObservableCounter("vmtrace_worker_points_queued", () => c.PointsQueued, description: "Points the analyses produced for InfluxDB.");
        m.CreateObservableCounter("vmtrace_worker_points_written", () => c.PointsWritten, description: "Points InfluxDB stored.");
        m.CreateObservableCounter("vmtrace_worker_points_rejected", () => c.PointsRejected, description: "Points InfluxDB rejected (kept in the dead-letter file).");
        m.CreateObservableCounter("vmtrace_worker_points_dropped_by_retention", () => c.DroppedByRetention, description: "Points InfluxDB dropped as older than its retention policy keeps.");
        m.CreateObservableCounter("vmtrace_worker_dead_letters", () => c.DeadLettered, description: "Records sent to the dead-letter topic.");
        m.CreateObservableCounter("vmtrace_worker_writes", () => c.WriteCount, description: "Writes to InfluxDB completed.");
        m.CreateObservableCounter("vmtrace_worker_write_failures", () => c.WriteFailures, description: "Writes to InfluxDB that failed (retried while consumption is paused).");
        m.CreateObservableCounter("vmtrace_worker_checkpoints", () => c.Checkpoints, description: "Partition checkpoints written.");
        m.CreateObservableCounter("vmtrace_worker_checkpoint_bytes", () => c.CheckpointBytes, description: "Bytes of the checkpoints written.");
        m.CreateObservableCounter("vmtrace_worker_sessions_ended", () => c.SessionsEnded, description: "Agent sessions ended by their end marker.");
        m.CreateObservableCounter("vmtrace_worker_sessions_cut_short", () => c.SessionsCutShort, description: "Agent sessions replaced without an end marker (their open window dropped).");
        m.CreateObservableCounter("vmtrace_worker_hosts_timed_out", () => c.HostsTimedOut, description: "Hosts ended after Worker:HostIdleTimeout without records.");
        m.CreateObservableCounter("vmtrace_worker_restored_partitions", () => c.RestoredPartitions, description: "Partitions resumed from a checkpoint.");
        m.CreateObservableGauge("vmtrace_worker_consumer_lag", () => worker.ConsumerLag, description: "Records behind the end of the assigned partitions, at the last health report (Worker:HealthInterval).");
        m.CreateObservableGauge("vmtrace_worker_watermark_lag", () => c.WatermarkLagNs / 1e9, unit: "s", description: "Event time between the newest event and the end of the newest closed window.");
        m.CreateObservableGauge("vmtrace_worker_pending_points", () => c.PendingPoints, description: "Points waiting for InfluxDB.");
        m.CreateObservableGauge("vmtrace_worker_assigned_partitions", () => c.AssignedPartitions, description: "Partitions of the events topic this worker owns.");
        m.CreateObservableGauge("vmtrace_worker_consumption_paused", () => c.ConsumptionPaused ? 1 : 0, description: "1 while consumption is paused because InfluxDB does not take the pending points.");
        m.CreateObservableGauge("vmtrace_worker_write_latency_mean", () => c.MeanWriteLatency.TotalSeconds, unit: "s", description: "Mean duration of the writes to InfluxDB.");
        var outages = worker.Outages;
        m.CreateObservableGauge("vmtrace_worker_kafka_down", () => outages.Kafka.Outage.IsDown ? 1 : 0, description: "1 while this worker sees Kafka down.");
        m.CreateObservableGauge("vmtrace_worker_influx_down", () => outages.Influx.Outage.IsDown ? 1 : 0, description: "1 while this worker's writes to InfluxDB fail.");
        m.CreateObservableCounter("vmtrace_worker_kafka_outages", () => outages.Kafka.Outage.Outages, description: "Kafka outages begun since start.");
        m.CreateObservableCounter("vmtrace_worker_influx_outages", () => outages.Influx.Outage.Outages, description: "InfluxDB outages begun since start.");
        m.CreateObservableCounter("vmtrace_worker_write_stalls", () => outages.WriteStalls, description: "Writes to InfluxDB without an answer within Worker:WriteStallTimeout.");
    }

    private static void AddInflux(Meter m, InfluxWriteCounters counters)
    {
        m.CreateObservableCounter("vmtrace_worker_influx_requests", () => counters.Snapshot().Requests, description: "HTTP write requests sent (retries and split halves included).");
        m.CreateObservableCounter("vmtrace_worker_influx_bytes_sent", () => counters.Snapshot().BytesSent, description: "Request body bytes sent to InfluxDB.");
        m.CreateObservableCounter("vmtrace_worker_influx_retries", () => counters.Snapshot().Retries, description: "Write attempts repeated after 429, 5xx, a timeout or a connection error.");
        m.CreateObservableCounter("vmtrace_worker_influx_failures", () => counters.Snapshot().Failures, description: "Writes that ended in an error after their retries.");
        m.CreateObservableCounter("vmtrace_worker_influx_dead_lettered_lines", () => counters.Snapshot().DeadLetteredLines, description: "Lines written to the dead-letter file (rejected by InfluxDB or too large).");
    }

    /// <summary>Each host's analysis quality counters (the <c>pipeline_health</c> component=analysis fields), labelled by host.</summary>
    private static void AddAnalysis(Meter m, WorkerCounters worker)
    {
        (string Name, string Description, Func<AnalysisCounters, long> Read)[] counters =
        [
            ("vmtrace_analysis_events", "Events analysed in the host's current agent session.", a => a.Events),
            ("vmtrace_analysis_inferred_switches", "Context switches inferred from an event's tid contradicting the CPU's thread.", a => a.InferredSwitches),
            ("vmtrace_analysis_out_of_order_events", "Events whose timestamp went backwards.", a => a.OutOfOrderEvents),
            ("vmtrace_analysis_time_jumps", "Gaps between consecutive events longer than the analysis's maximum gap.", a => a.TimeJumps),
            ("vmtrace_analysis_loss_reports", "Places where the tracer reported lost events.", a => a.LossReports),
            ("vmtrace_analysis_kvm_events_without_thread", "kvm_entry events with no thread known.", a => a.KvmEventsWithoutThread),
            ("vmtrace_analysis_unfinished_exits", "kvm_exit events still waiting for their kvm_entry.", a => a.UnfinishedExits),
            ("vmtrace_analysis_lost_exits", "kvm_exit events inferred lost.", a => a.LostExits),
            ("vmtrace_analysis_unmatched_completions", "qemu or block completions with no matching open request.", a => a.UnmatchedCompletions),
            ("vmtrace_analysis_unattributed_qemu_disk_events", "qemu disk events with no thread id (charged to no VM).", a => a.UnattributedQemuDiskEvents),
            ("vmtrace_analysis_events_without_tid", "Events other than sched_switch that carry no thread id.", a => a.EventsWithoutTid),
            ("vmtrace_analysis_block_issues_without_thread", "block_rq_issue with no thread known (charged to no VM).", a => a.BlockIssuesWithoutThread),
            ("vmtrace_analysis_net_events_without_thread", "Packets on a tap device not tied to a VM (counted for no VM).", a => a.NetEventsWithoutThread),
        ];
        foreach (var (name, description, read) in counters)
            m.CreateObservableCounter(name, () => ByHost(worker, read), description: description);
        m.CreateObservableCounter("vmtrace_analysis_time_jump", () => TimeJumpSeconds(worker), unit: "s", description: "Total length of the time jumps (not analysed).");
    }

    private static IEnumerable<Measurement<long>> ByHost(WorkerCounters worker, Func<AnalysisCounters, long> read)
    {
        foreach (var (host, counters) in worker.AnalysisByHost)
            yield return new Measurement<long>(read(counters), new KeyValuePair<string, object?>("host", host));
    }

    private static IEnumerable<Measurement<double>> TimeJumpSeconds(WorkerCounters worker)
    {
        foreach (var (host, counters) in worker.AnalysisByHost)
            yield return new Measurement<double>(counters.TimeJumpNs / 1e9, new KeyValuePair<string, object?>("host", host));
    }

    public void Dispose() => _meter?.Dispose();
}
