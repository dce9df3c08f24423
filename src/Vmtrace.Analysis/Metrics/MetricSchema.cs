using System.Collections.Immutable;

namespace Vmtrace.Analysis;

/// <summary>
/// Every figure vmtrace writes, once: name, kind (unit), value type, description and how it is read from the result
/// objects (the <c>*Figures</c> classes), and the layouts that place them in each output (<see cref="Json"/>,
/// <see cref="Csv"/>, <see cref="LineProtocol"/>, in the order written). The JSON, CSV and line protocol writers and the
/// worker write from these layouts, and docs/schema.md is generated from them (<see cref="MetricSchemaMarkdown"/>).
/// </summary>
public static class MetricSchema
{
    /// <summary>A window of the analysis (the JSON total is one too, over the whole range).</summary>
    public static class WindowFigures
    {
        public static readonly Metric<WindowMetrics> StartNs = Metric.Integer<WindowMetrics>("start_ns", MetricKind.TimestampNs,
            "WindowMetrics.StartNs", "window start on the trace clock (a whole multiple of the window length)", w => w.StartNs);

        public static readonly Metric<WindowMetrics> EndNs = Metric.Integer<WindowMetrics>("end_ns", MetricKind.TimestampNs,
            "WindowMetrics.EndNs", "window end (the flush time for the last one)", w => w.EndNs);

        public static readonly Metric<WindowMetrics> LengthNs = Metric.Integer<WindowMetrics>("window_ns", MetricKind.DurationNs,
            "WindowMetrics.LengthNs", "window length: end − start", w => w.LengthNs);

        public static readonly Metric<WindowMetrics> Pcpus = Metric.Integer<WindowMetrics>("pcpus", MetricKind.Count,
            "WindowMetrics.CpuCount", "pCPUs the shares are of: --cpus, else the trace's CPU count, else the highest CPU seen + 1",
            w => w.CpuCount);
    }

    /// <summary>A vCPU thread's time by state (per vCPU; summed over a VM's vCPUs).</summary>
    public static class CpuFigures
    {
        public static readonly Metric<CpuTimes> GuestNs = Metric.Integer<CpuTimes>("guest_ns", MetricKind.DurationNs,
            "CpuTimes.GuestNs", "in guest mode: kvm_entry → next kvm_exit of the thread, while on a pCPU", t => t.GuestNs);

        public static readonly Metric<CpuTimes> HostNs = Metric.Integer<CpuTimes>("host_ns", MetricKind.DurationNs,
            "CpuTimes.HostNs", "on a pCPU and not in guest (exit handling, qemu userspace; under TCG all on-CPU time)", t => t.HostNs);

        public static readonly Metric<CpuTimes> PreemptedNs = Metric.Integer<CpuTimes>("preempted_ns", MetricKind.DurationNs,
            "CpuTimes.PreemptedNs", "switched out while runnable, until back on a pCPU", t => t.PreemptedNs);

        public static readonly Metric<CpuTimes> WaitNs = Metric.Integer<CpuTimes>("wait_ns", MetricKind.DurationNs,
            "CpuTimes.WaitNs", "woken while sleeping, until on a pCPU", t => t.WaitNs);

        public static readonly Metric<CpuTimes> BlockedNs = Metric.Integer<CpuTimes>("blocked_ns", MetricKind.DurationNs,
            "CpuTimes.BlockedNs", "switched out sleeping (e.g. after HLT) until woken", t => t.BlockedNs);

        public static readonly Metric<CpuTimes> BlockedQueuedNs = Metric.Integer<CpuTimes>("blocked_queued_ns", MetricKind.DurationNs,
            "CpuTimes.BlockedQueuedNs", "the part of blocked_ns the kernel books as run-queue wait (sched_migrate_task of the sleeping thread → its wake-up)",
            t => t.BlockedQueuedNs);

        public static readonly ImmutableArray<Metric<CpuTimes>> All = [GuestNs, HostNs, PreemptedNs, WaitNs, BlockedNs, BlockedQueuedNs];
    }

    /// <summary>A list of exits (a VM's or a vCPU's, one entry per reason).</summary>
    public static class ExitListFigures
    {
        public static readonly Metric<IReadOnlyList<ExitMetrics>> Count = Metric.Integer<IReadOnlyList<ExitMetrics>>("exits", MetricKind.Count,
            "Σ ExitMetrics.Latency.Count (VmMetrics.ExitCount)", "VM exits handled in the window (a kvm_exit paired with the thread's next kvm_entry)",
            x => x.Sum(e => e.Latency.Count));

        public static readonly Metric<IReadOnlyList<ExitMetrics>> LatencySumNs = Metric.Integer<IReadOnlyList<ExitMetrics>>("exit_latency_sum_ns",
            MetricKind.DurationNs, "Σ ExitMetrics.Latency.SumNs", "handling latency of all those exits, summed", x => x.Sum(e => e.Latency.SumNs));
    }

    /// <summary>A VM in a window.</summary>
    public static class VmFigures
    {
        public static readonly Metric<VmMetrics> Name = Metric.Text<VmMetrics>("vm", MetricKind.Label,
            "VmMetrics.Vm", "the VM's name (qemu -name from the inventory, else qemu-PID, else qemu-tTID)", v => v.Vm);

        public static readonly Metric<VmMetrics> Pid = Metric.Integer<VmMetrics>("pid", MetricKind.Identifier,
            "VmMetrics.Pid", "the qemu process id (-1 when unknown)", v => v.Pid);

        public static readonly Metric<VmMetrics> Identity = Metric.Text<VmMetrics>("identity", MetricKind.Label,
            "VmMetrics.Identity", "how the VM was identified: vmmap, cmdline, tgid, fork, names or guess", v => v.Identity);

        public static readonly Metric<VmMetrics> Origin = Metric.Text<VmMetrics>("origin", MetricKind.Label,
            "VmMetrics.Origin", "what the identification rests on", v => v.Origin);

        public static readonly Metric<VmMetrics> ThreadsCpuNs = Metric.Integer<VmMetrics>("threads_cpu_ns", MetricKind.DurationNs,
            "VmMetrics.ThreadsOnCpuNs", "on-CPU time of all the VM's threads (vCPUs, main loop, I/O workers, vhost)", v => v.ThreadsOnCpuNs);

        public static readonly Metric<VmMetrics> PcpuShare = Metric.Float<VmMetrics>("pcpu_share", MetricKind.Ratio,
            "VmMetrics.PcpuShare", "threads_cpu_ns / (window length × pCPUs)", v => v.PcpuShare);

        public static readonly Metric<VmMetrics> ActiveVcpus = Metric.Integer<VmMetrics>("active_vcpus", MetricKind.Count,
            "VmMetrics.ActiveVcpus", "vCPUs with some on-CPU time in the window", v => v.ActiveVcpus);

        public static readonly Metric<VmMetrics> Preemptions = Metric.Integer<VmMetrics>("preemptions", MetricKind.Count,
            "VmMetrics.PreemptedIntervals.Count", "preempted intervals of the VM's vCPUs (switched out runnable → back on a pCPU) that ended in the window",
            v => v.PreemptedIntervals.Count);

        public static readonly Metric<VmMetrics> PreemptedIntervalMeanNs = Metric.Float<VmMetrics>("preempted_interval_mean_ns", MetricKind.DurationNs,
            "VmMetrics.PreemptedIntervals.MeanNs", "their mean length (the whole interval, counted in the window it ends in)",
            v => v.PreemptedIntervals.MeanNs);

        public static readonly Metric<VmMetrics> PreemptedIntervalStdDevNs = Metric.Float<VmMetrics>("preempted_interval_stddev_ns", MetricKind.DurationNs,
            "VmMetrics.PreemptedIntervals.StdDevNs", "sample standard deviation of their lengths (n − 1; 0 below two)",
            v => v.PreemptedIntervals.StdDevNs);

        public static readonly ImmutableArray<Metric<VmMetrics>> PreemptedIntervals = [Preemptions, PreemptedIntervalMeanNs, PreemptedIntervalStdDevNs];
    }

    /// <summary>A vCPU of a VM in a window.</summary>
    public static class VcpuFigures
    {
        public static readonly Metric<VcpuMetrics> Id = Metric.Integer<VcpuMetrics>("vcpu", MetricKind.Identifier,
            "VcpuMetrics.VcpuId", "the vCPU id within its VM", v => v.VcpuId);

        public static readonly Metric<VcpuMetrics> Tid = Metric.Integer<VcpuMetrics>("tid", MetricKind.Identifier,
            "VcpuMetrics.Tid", "the vCPU thread's id", v => v.Tid);
    }

    /// <summary>A latency distribution (exit handling, disk requests).</summary>
    public static class LatencyFigures
    {
        public static readonly Metric<LatencyMetrics> Count = Metric.Integer<LatencyMetrics>("count", MetricKind.Count,
            "LatencyMetrics.Count", "how many latencies (exits of the reason, completed requests)", l => l.Count);

        public static readonly Metric<LatencyMetrics> SumNs = Metric.Integer<LatencyMetrics>("latency_sum_ns", MetricKind.DurationNs,
            "LatencyMetrics.SumNs", "sum of the latencies (exit → entry; request open → close)", l => l.SumNs);

        public static readonly Metric<LatencyMetrics> MinNs = Metric.Integer<LatencyMetrics>("latency_min_ns", MetricKind.DurationNs,
            "LatencyMetrics.MinNs", "shortest latency", l => l.MinNs);

        public static readonly Metric<LatencyMetrics> MaxNs = Metric.Integer<LatencyMetrics>("latency_max_ns", MetricKind.DurationNs,
            "LatencyMetrics.MaxNs", "longest latency", l => l.MaxNs);

        public static readonly Metric<LatencyMetrics> P50Ns = Metric.Integer<LatencyMetrics>("latency_p50_ns", MetricKind.DurationNs,
            "LatencyMetrics.P50Ns", "median, from a log-linear histogram (at most 12.5 % off, clamped to min/max)", l => l.P50Ns);

        public static readonly Metric<LatencyMetrics> P95Ns = Metric.Integer<LatencyMetrics>("latency_p95_ns", MetricKind.DurationNs,
            "LatencyMetrics.P95Ns", "95th percentile, as p50", l => l.P95Ns);

        public static readonly Metric<LatencyMetrics> P99Ns = Metric.Integer<LatencyMetrics>("latency_p99_ns", MetricKind.DurationNs,
            "LatencyMetrics.P99Ns", "99th percentile, as p50", l => l.P99Ns);

        public static readonly ImmutableArray<Metric<LatencyMetrics>> All = [Count, SumNs, MinNs, MaxNs, P50Ns, P95Ns, P99Ns];

        public static readonly Metric<LatencyMetrics> StdDevNs = Metric.Float<LatencyMetrics>("latency_stddev_ns", MetricKind.DurationNs,
            "LatencyMetrics.StdDevNs", "sample standard deviation of the latencies (n − 1; exact sums, windows merge exactly; 0 below two)",
            l => l.StdDevNs);
    }

    /// <summary>The exits of one reason.</summary>
    public static class ExitFigures
    {
        public static readonly Metric<ExitMetrics> Reason = Metric.Integer<ExitMetrics>("reason", MetricKind.Identifier,
            "ExitMetrics.Reason", "the tracer's exit_reason (VMX basic exit reason, or SVM exit code)", x => x.Reason);

        public static readonly Metric<ExitMetrics> Isa = Metric.Text<ExitMetrics>("isa", MetricKind.Label,
            "ExitReasons.Tag(ExitMetrics.Isa)", "vmx or svm, when kvm_exit's isa field says (else left out)", x => ExitReasons.Tag(x.Isa));

        public static readonly Metric<ExitMetrics> Name = Metric.Text<ExitMetrics>("name", MetricKind.Label,
            "ExitMetrics.Name", "the reason's name in that ISA's table (left out without the isa)", x => x.Name);

        public static readonly ImmutableArray<Metric<ExitMetrics>> Latency =
            [.. LatencyFigures.All.Add(LatencyFigures.StdDevNs).Select(m => m.Of((ExitMetrics x) => x.Latency))];
    }

    /// <summary>One disk layer (qemu's thread pool, or the block layer) of a VM.</summary>
    public static class DiskFigures
    {
        public static readonly Metric<DiskLayerMetrics> Submitted = Metric.Integer<DiskLayerMetrics>("submitted", MetricKind.Count,
            "DiskLayerMetrics.Submitted", "requests opened in the window", d => d.Submitted);

        public static readonly Metric<DiskLayerMetrics> Completed = Metric.Integer<DiskLayerMetrics>("completed", MetricKind.Count,
            "DiskLayerMetrics.Completed", "requests closed in the window", d => d.Completed);

        public static readonly Metric<DiskLayerMetrics> ReadRequests = Metric.Integer<DiskLayerMetrics>("read_requests", MetricKind.Count,
            "DiskLayerMetrics.ReadRequests", "read requests (at completion; qemu layer: at the direction event)", d => d.ReadRequests);

        public static readonly Metric<DiskLayerMetrics> WriteRequests = Metric.Integer<DiskLayerMetrics>("write_requests", MetricKind.Count,
            "DiskLayerMetrics.WriteRequests", "write requests, as read_requests", d => d.WriteRequests);

        public static readonly Metric<DiskLayerMetrics> ReadBytes = Metric.Integer<DiskLayerMetrics>("read_bytes", MetricKind.Bytes,
            "DiskLayerMetrics.ReadBytes", "bytes read", d => d.ReadBytes);

        public static readonly Metric<DiskLayerMetrics> WriteBytes = Metric.Integer<DiskLayerMetrics>("write_bytes", MetricKind.Bytes,
            "DiskLayerMetrics.WriteBytes", "bytes written", d => d.WriteBytes);

        public static readonly Metric<DiskLayerMetrics> InFlight = Metric.Integer<DiskLayerMetrics>("in_flight", MetricKind.Count,
            "DiskLayerMetrics.InFlight", "requests open at the window end", d => d.InFlight);

        public static readonly Metric<DiskLayerMetrics> MaxInFlight = Metric.Integer<DiskLayerMetrics>("max_in_flight", MetricKind.Count,
            "DiskLayerMetrics.MaxInFlight", "most requests open at once in the window", d => d.MaxInFlight);

        public static readonly Metric<DiskLayerMetrics> SubmitIntervalMeanNs = Metric.Float<DiskLayerMetrics>("submit_interval_mean_ns",
            MetricKind.DurationNs, "DiskLayerMetrics.SubmitIntervals.MeanNs", "mean gap between successive submits (Welford; windows merge exactly)",
            d => d.SubmitIntervals.MeanNs);

        public static readonly Metric<DiskLayerMetrics> SubmitIntervalVarianceNs2 = Metric.Float<DiskLayerMetrics>("submit_interval_var_ns2",
            MetricKind.VarianceNs2, "DiskLayerMetrics.SubmitIntervals.VarianceNs2", "sample variance of those gaps", d => d.SubmitIntervals.VarianceNs2);

        public static readonly Metric<DiskLayerMetrics> CompleteIntervalMeanNs = Metric.Float<DiskLayerMetrics>("complete_interval_mean_ns",
            MetricKind.DurationNs, "DiskLayerMetrics.CompleteIntervals.MeanNs", "mean gap between successive completions",
            d => d.CompleteIntervals.MeanNs);

        public static readonly Metric<DiskLayerMetrics> CompleteIntervalVarianceNs2 = Metric.Float<DiskLayerMetrics>("complete_interval_var_ns2",
            MetricKind.VarianceNs2, "DiskLayerMetrics.CompleteIntervals.VarianceNs2", "sample variance of those gaps",
            d => d.CompleteIntervals.VarianceNs2);

        public static readonly ImmutableArray<Metric<LatencyMetrics>> Latency = LatencyFigures.All;
    }

    /// <summary>What crosses a VM's tap device, and its vhost threads' time.</summary>
    public static class NetworkFigures
    {
        public static readonly Metric<NetworkMetrics> RxPackets = Metric.Integer<NetworkMetrics>("rx_packets", MetricKind.Count,
            "NetworkMetrics.RxPackets", "packets the host sent into the VM (net_dev_xmit on its tap)", n => n.RxPackets);

        public static readonly Metric<NetworkMetrics> RxBytes = Metric.Integer<NetworkMetrics>("rx_bytes", MetricKind.Bytes,
            "NetworkMetrics.RxBytes", "their bytes (len)", n => n.RxBytes);

        public static readonly Metric<NetworkMetrics> TxPackets = Metric.Integer<NetworkMetrics>("tx_packets", MetricKind.Count,
            "NetworkMetrics.TxPackets", "packets the VM sent into the host (netif_receive_skb on its tap)", n => n.TxPackets);

        public static readonly Metric<NetworkMetrics> TxBytes = Metric.Integer<NetworkMetrics>("tx_bytes", MetricKind.Bytes,
            "NetworkMetrics.TxBytes", "their bytes (len)", n => n.TxBytes);

        public static readonly Metric<NetworkMetrics> VhostBusyNs = Metric.Integer<NetworkMetrics>("vhost_busy_ns", MetricKind.DurationNs,
            "NetworkMetrics.VhostBusyNs", "on-CPU time of the VM's vhost-PID threads", n => n.VhostBusyNs);

        public static readonly Metric<NetworkMetrics> VhostWaitNs = Metric.Integer<NetworkMetrics>("vhost_wait_ns", MetricKind.DurationNs,
            "NetworkMetrics.VhostWaitNs", "runnable-but-waiting time of those threads", n => n.VhostWaitNs);

        public static readonly Metric<NetworkMetrics> RxGapMeanNs = Metric.Float<NetworkMetrics>("rx_gap_mean_ns", MetricKind.DurationNs,
            "NetworkMetrics.RxGaps.MeanNs", "mean gap between successive packets into the VM (all its taps; counted at the later packet)",
            n => n.RxGaps.MeanNs);

        public static readonly Metric<NetworkMetrics> RxGapStdDevNs = Metric.Float<NetworkMetrics>("rx_gap_stddev_ns", MetricKind.DurationNs,
            "NetworkMetrics.RxGaps.StdDevNs", "sample standard deviation of those gaps (n − 1; 0 below two)", n => n.RxGaps.StdDevNs);

        public static readonly Metric<NetworkMetrics> TxGapMeanNs = Metric.Float<NetworkMetrics>("tx_gap_mean_ns", MetricKind.DurationNs,
            "NetworkMetrics.TxGaps.MeanNs", "mean gap between successive packets out of the VM", n => n.TxGaps.MeanNs);

        public static readonly Metric<NetworkMetrics> TxGapStdDevNs = Metric.Float<NetworkMetrics>("tx_gap_stddev_ns", MetricKind.DurationNs,
            "NetworkMetrics.TxGaps.StdDevNs", "sample standard deviation of those gaps", n => n.TxGaps.StdDevNs);

        public static readonly ImmutableArray<Metric<NetworkMetrics>> All =
            [RxPackets, RxBytes, TxPackets, TxBytes, VhostBusyNs, VhostWaitNs, RxGapMeanNs, RxGapStdDevNs, TxGapMeanNs, TxGapStdDevNs];
    }

    /// <summary>Who ran while a VM's vCPUs were preempted (top N per VM and window, the rest as <c>other</c>).</summary>
    public static class InterferenceFigures
    {
        public static readonly Metric<Interference> Culprit = Metric.Text<Interference>("culprit", MetricKind.Label,
            "Interference.Culprit", "another VM, the same VM, host:COMM, idle, unknown, or other (the rest)", i => i.Culprit);

        public static readonly Metric<Interference> PreemptedNs = Metric.Integer<Interference>("preempted_ns", MetricKind.DurationNs,
            "Interference.PreemptedNs", "the VM's vCPUs' preempted time while that culprit ran on their pCPU", i => i.PreemptedNs);
    }

    /// <summary>A VM's workload class in a window (<see cref="WorkloadModel"/>).</summary>
    public static class WorkloadFigures
    {
        public static readonly Metric<WorkloadClass> Class = Metric.Text<WorkloadClass>("class", MetricKind.Label,
            "WorkloadClass.Class", "idle, cpu, disk, net, or mixed (no class clearly nearest)", w => w.Class);

        public static readonly Metric<WorkloadClass> Confidence = Metric.Float<WorkloadClass>("confidence", MetricKind.Ratio,
            "WorkloadClass.Confidence", "0..1: (d2 − d1) / (d2 + d1) of the two nearest class centroids; idle: 1 − pCPU share / idle_max_pcpu",
            w => w.Confidence);

        public static readonly ImmutableArray<Metric<WorkloadClass>> All = [Class, Confidence];
    }

    /// <summary>How far a host's analysis had to guess or leave things out, since it started.</summary>
    public static class CounterFigures
    {
        public static readonly Metric<AnalysisCounters> AnalysedEvents = Counter("analysed_events", "Events", "events analysed", c => c.Events);

        public static readonly Metric<AnalysisCounters> InferredSwitches = Counter("inferred_switches", "InferredSwitches",
            "context switches inferred from an event whose tid contradicts the model", c => c.InferredSwitches);

        public static readonly Metric<AnalysisCounters> LostExits = Counter("lost_exits", "LostExits",
            "kvm_exits found lost (a host event of a thread in guest mode)", c => c.LostExits);

        public static readonly Metric<AnalysisCounters> UnfinishedExits = Counter("unfinished_exits", "UnfinishedExits",
            "exits still open at the end of the analysis", c => c.UnfinishedExits);

        public static readonly Metric<AnalysisCounters> OutOfOrderEvents = Counter("out_of_order_events", "OutOfOrderEvents",
            "events older than one already seen (handled at the latest time seen)", c => c.OutOfOrderEvents);

        public static readonly Metric<AnalysisCounters> LossReports = Counter("loss_reports", "LossReports",
            "lost-event reports of the tracer", c => c.LossReports);

        public static readonly Metric<AnalysisCounters> UnmatchedCompletions = Counter("unmatched_completions", "UnmatchedCompletions",
            "disk completions with no open request", c => c.UnmatchedCompletions);

        public static readonly Metric<AnalysisCounters> KvmEventsWithoutThread = Counter("kvm_events_without_thread", "KvmEventsWithoutThread",
            "kvm events with no thread to charge", c => c.KvmEventsWithoutThread);

        public static readonly Metric<AnalysisCounters> UnattributedQemuDiskEvents = Counter("unattributed_qemu_disk_events",
            "UnattributedQemuDiskEvents", "qemu disk events of no known VM", c => c.UnattributedQemuDiskEvents);

        public static readonly Metric<AnalysisCounters> EventsWithoutTid = Counter("events_without_tid", "EventsWithoutTid",
            "events without a thread id (no tid context)", c => c.EventsWithoutTid);

        public static readonly Metric<AnalysisCounters> BlockIssuesWithoutThread = Counter("block_issues_without_thread",
            "BlockIssuesWithoutThread", "block issues without a tid on a CPU whose thread is unknown: charged to no VM", c => c.BlockIssuesWithoutThread);

        public static readonly Metric<AnalysisCounters> NetEventsWithoutThread = Counter("net_events_without_thread", "NetEventsWithoutThread",
            "network events without a tid on a CPU whose thread is unknown: charged to no VM", c => c.NetEventsWithoutThread);

        public static readonly Metric<AnalysisCounters> NestedEventsOutOfSequence = Counter("nested_events_out_of_sequence", "NestedEventsOutOfSequence",
            "nested events that fit no L2 run (kvm_nested_vmexit or _inject of a thread running no L2, kvm_nested_vmenter of no VM's thread, " +
            "a nested context ended by a lost kvm_exit): ignored", c => c.NestedEventsOutOfSequence);

        public static readonly Metric<AnalysisCounters> TimeJumps = Counter("time_jumps", "TimeJumps",
            "gaps between consecutive events longer than AnalysisOptions.MaxGapNs (not analysed)", c => c.TimeJumps);

        public static readonly Metric<AnalysisCounters> TimeJumpNs = Metric.Integer<AnalysisCounters>("time_jump_ns", MetricKind.DurationNs,
            "AnalysisCounters.TimeJumpNs", "time inside those gaps", c => c.TimeJumpNs);

        /// <summary>Loss reports of the analysis and of the trace readers together, as <c>vmtrace analyze</c> reports them.</summary>
        public static readonly Metric<AnalysisCounterSources> AllLossReports = Metric.Integer<AnalysisCounterSources>("loss_reports",
            MetricKind.Count, "AnalysisCounters.LossReports + SourceDiagnostics.LossReports", "lost-event reports of the tracer",
            s => s.Counters.LossReports + s.Diagnostics.LossReports);

        public static readonly Metric<AnalysisCounterSources> LostEvents = Metric.Integer<AnalysisCounterSources>("lost_events",
            MetricKind.Count, "SourceDiagnostics.LostEvents", "events the tracer reports lost", s => s.Diagnostics.LostEvents);

        public static readonly Metric<AnalysisCounterSources> DecodeErrors = Metric.Integer<AnalysisCounterSources>("decode_errors",
            MetricKind.Count, "SourceDiagnostics.ErrorCount", "damaged places the decoders skipped", s => s.Diagnostics.ErrorCount);

        private static Metric<AnalysisCounters> Counter(string name, string property, string description, Func<AnalysisCounters, long> read) =>
            Metric.Integer(name, MetricKind.Count, "AnalysisCounters." + property, description, read);
    }

    /// <summary>A vCPU's blocked waits by what ended them (per vCPU; summed over a VM's vCPUs). docs/metrics.md, "Wait causes".</summary>
    public static class WaitCauseFigures
    {
        public static readonly Metric<WaitCauses> TimerNs = Metric.Integer<WaitCauses>("timer", MetricKind.DurationNs,
            "WaitCauses.TimerNs", "blocked time ended by a timer (timer/hrtimer softirq, a timer interrupt, the guest's local timer vector)",
            c => c.TimerNs);

        public static readonly Metric<WaitCauses> DiskNs = Metric.Integer<WaitCauses>("disk", MetricKind.DurationNs,
            "WaitCauses.DiskNs", "ended by the disk (a block completion, the VM's qemu thread-pool workers, a disk interrupt, the block softirq)",
            c => c.DiskNs);

        public static readonly Metric<WaitCauses> NetNs = Metric.Integer<WaitCauses>("net", MetricKind.DurationNs,
            "WaitCauses.NetNs", "ended by the network (vhost, a packet queued on a tap, the network softirqs, a network interrupt)", c => c.NetNs);

        public static readonly Metric<WaitCauses> VcpuNs = Metric.Integer<WaitCauses>("vcpu", MetricKind.DurationNs,
            "WaitCauses.VcpuNs", "ended by another vCPU of the same VM (an IPI, or its thread waking this one)", c => c.VcpuNs);

        public static readonly Metric<WaitCauses> HostNs = Metric.Integer<WaitCauses>("host", MetricKind.DurationNs,
            "WaitCauses.HostNs", "ended by another process of the host (or another VM)", c => c.HostNs);

        public static readonly Metric<WaitCauses> UnknownNs = Metric.Integer<WaitCauses>("unknown", MetricKind.DurationNs,
            "WaitCauses.UnknownNs", "ended by something no event tells (wake-up not traced, a chain that ends in a thread woken by nothing known)",
            c => c.UnknownNs);

        public static readonly ImmutableArray<Metric<WaitCauses>> All = [TimerNs, DiskNs, NetNs, VcpuNs, HostNs, UnknownNs];

        /// <summary>The same figures as line protocol fields: wait_&lt;cause&gt;_ns.</summary>
        public static ImmutableArray<Metric<TOuter>> Fields<TOuter>(Func<TOuter, WaitCauses> part) =>
            [.. All.Select(m => m.Of(part, "wait_" + m.Name + "_ns"))];
    }

    /// <summary>
    /// A vCPU's guest time by the guest's mode at VM entry (per vCPU; summed over a VM's vCPUs), from the guest RIP of the kvm
    /// tracepoints. docs/metrics.md, "Guest address spaces and modes".
    /// </summary>
    public static class GuestModeFigures
    {
        public static readonly Metric<GuestModes> KernelNs = Metric.Integer<GuestModes>("kernel_ns", MetricKind.DurationNs,
            "GuestModes.KernelNs", "guest time of runs entered at a guest kernel address (RIP in the upper half, bit 63 set)", m => m.KernelNs);

        public static readonly Metric<GuestModes> UserNs = Metric.Integer<GuestModes>("user_ns", MetricKind.DurationNs,
            "GuestModes.UserNs", "guest time of runs entered at a guest user address (RIP in the lower half); guest_ns − kernel − user: mode unknown",
            m => m.UserNs);

        public static readonly Metric<GuestModes> Runs = Metric.Integer<GuestModes>("runs", MetricKind.Count,
            "GuestModes.Runs", "guest runs (kvm_entry → kvm_exit) that ended in the window with the mode known at both ends", m => m.Runs);

        public static readonly Metric<GuestModes> CrossedRuns = Metric.Integer<GuestModes>("crossed_runs", MetricKind.Count,
            "GuestModes.CrossedRuns", "of those, the runs that exited in the other mode than they entered in (where the split by entry mode is unsure)",
            m => m.CrossedRuns);

        public static readonly ImmutableArray<Metric<GuestModes>> All = [KernelNs, UserNs, Runs, CrossedRuns];

        /// <summary>The same figures as line protocol fields: guest_&lt;figure&gt;.</summary>
        public static ImmutableArray<Metric<TOuter>> Fields<TOuter>(Func<TOuter, GuestModes> part) =>
            [.. All.Select(m => m.Of(part, "guest_" + m.Name))];
    }

    /// <summary>A VM's guest time in one guest address space (CR3 at VM entry). docs/metrics.md, "Guest address spaces and modes".</summary>
    public static class GuestSpaceFigures
    {
        public static readonly Metric<GuestSpace> Cr3 = Metric.Text<GuestSpace>("cr3", MetricKind.Label, "GuestSpace.Cr3",
            "the guest CR3 at entry (addons_vcpu_enter_guest's cr3tmp, PCID bits cleared) in hexadecimal, other (beyond the top 8), " +
            "or unknown (runs no such event gave a CR3)", g => g.Cr3);

        public static readonly Metric<GuestSpace> GuestNs = Metric.Integer<GuestSpace>("guest_ns", MetricKind.DurationNs, "GuestSpace.GuestNs",
            "the VM's guest time of runs entered with that CR3 (the entries of a VM sum to its guest_ns)", g => g.GuestNs);
    }

    /// <summary>A guest thread's run time split by its vCPU thread's host state (docs/metrics.md, "Guest threads").</summary>
    public static class GuestThreadFigures
    {
        public static readonly Metric<GuestThreadRow> Guest = Metric.Text<GuestThreadRow>("guest", MetricKind.Label,
            "GuestMetrics.Name", "the guest's NAME (analyze --guest NAME=…, the agent's Agent:Guests key)", r => r.Guest.Name);

        public static readonly Metric<GuestThreadRow> Vm = Metric.Text<GuestThreadRow>("vm", MetricKind.Label,
            "GuestMetrics.Vm", "the host VM of the guest's vCPU threads (left out, or empty in CSV, when the host trace showed none)", r => r.Guest.Vm);

        public static readonly Metric<GuestThreadRow> Tid = Metric.Integer<GuestThreadRow>("tid", MetricKind.Identifier,
            "GuestThreadTimes.Tid", "the thread's id inside the guest", r => r.Thread.Tid);

        public static readonly Metric<GuestThreadRow> Comm = Metric.Text<GuestThreadRow>("comm", MetricKind.Label,
            "GuestThreadTimes.Comm", "the thread's name inside the guest (its last sched_switch name, else the guest trace's saved_cmdlines)", r => r.Thread.Comm);

        public static readonly Metric<GuestThreadRow> RunNs = Metric.Integer<GuestThreadRow>("run_ns", MetricKind.DurationNs,
            "GuestThreadTimes.RunNs", "running on a guest CPU, in the guest's own view (its sched_switch)", r => r.Thread.RunNs);

        public static readonly Metric<GuestThreadRow> InGuestNs = Metric.Integer<GuestThreadRow>("in_guest_ns", MetricKind.DurationNs,
            "GuestThreadTimes.InGuestNs", "of run_ns, its vCPU thread was in guest mode (kvm_entry → next kvm_exit)", r => r.Thread.InGuestNs);

        public static readonly Metric<GuestThreadRow> HypervisorNs = Metric.Integer<GuestThreadRow>("hypervisor_ns", MetricKind.DurationNs,
            "GuestThreadTimes.HypervisorNs", "of run_ns, its vCPU thread was in root mode on the host (exit handling, qemu userspace), not preempted",
            r => r.Thread.HypervisorNs);

        public static readonly Metric<GuestThreadRow> PreemptedNs = Metric.Integer<GuestThreadRow>("preempted_ns", MetricKind.DurationNs,
            "GuestThreadTimes.PreemptedNs", "of run_ns, its vCPU thread was off its pCPU while runnable", r => r.Thread.PreemptedNs);

        public static readonly Metric<GuestThreadRow> UnknownNs = Metric.Integer<GuestThreadRow>("unknown_ns", MetricKind.DurationNs,
            "GuestThreadTimes.UnknownNs", "run_ns minus the three: the host had not shown its vCPU thread's state", r => r.Thread.UnknownNs);

        public static readonly ImmutableArray<Metric<GuestThreadRow>> Times = [RunNs, InGuestNs, HypervisorNs, PreemptedNs, UnknownNs];
    }

    /// <summary>The tags of the line protocol measurements.</summary>
    public static class Tags
    {
        public static readonly MetricTag Host = new("host", "the traced host (--host, the agent's host id)");
        public static readonly MetricTag Vm = new("vm", "the VM's name");
        public static readonly MetricTag Vcpu = new("vcpu", "the vCPU id within the VM");
        public static readonly MetricTag Reason = new("reason", "the exit reason number");
        public static readonly MetricTag Isa = new("isa", "vmx or svm, when the trace says");
        public static readonly MetricTag ReasonName = new("reason_name", "the reason's name in that ISA's table, when the trace says");
        public static readonly MetricTag Layer = new("layer", "qemu or block");
        public static readonly MetricTag Culprit = new("culprit",
            "vmtrace_interference: top N per VM and window (default 5), plus other; vmtrace_episode: the episode's largest culprit (left out when none is known)");
        public static readonly MetricTag Component = new("component", "worker, agent or analysis");
        public static readonly MetricTag Instance = new("instance", "one per worker process");
        public static readonly MetricTag Resource = new("resource", "what an episode's VM lost: cpu, exits, disk or net");
        public static readonly MetricTag Cr3 = new("cr3", "a guest address space: the top 8 CR3s per VM and window (hexadecimal), other, unknown");
        public static readonly MetricTag L2 = new("l2", "an L2 guest the VM runs: ept:0x… (its nested page table root), l1cr3:0x… (the L1 process running it) or unknown");
        public static readonly MetricTag L2Vcpu = new("l2_vcpu", "the L2 guest's vCPU, numbered in the order first entered");
        public static readonly MetricTag Guest = new("guest", "vmtrace_guest_thread: the guest's NAME (analyze --guest NAME=…, the agent's Agent:Guests key)");
        public static readonly MetricTag Tid = new("tid",
            "vmtrace_guest_thread only: the guest thread's id (one point per guest thread and analysis, so the series are the guest's threads)");
        public static readonly MetricTag Comm = new("comm", "vmtrace_guest_thread only: the guest thread's name");
    }

    /// <summary>The JSON of <c>vmtrace analyze --format json</c>: the objects under <c>total</c> and each of <c>windows[]</c>.</summary>
    public static class Json
    {
        private const string Vms = "windows[].vms[]";

        // Readers of the parts, before the groups that use them (static fields initialise in order).
        private static readonly Func<AnalysisCounterSources, AnalysisCounters> Analysis = s => s.Counters;

        public static readonly MetricGroup<AnalysisCounterSources> Counters = new(MetricFormat.Json, "counters", MetricLevel.Host,
        [
            CounterFigures.InferredSwitches.Of(Analysis), CounterFigures.LostExits.Of(Analysis), CounterFigures.UnfinishedExits.Of(Analysis),
            CounterFigures.OutOfOrderEvents.Of(Analysis), CounterFigures.AllLossReports, CounterFigures.LostEvents, CounterFigures.DecodeErrors,
            CounterFigures.UnmatchedCompletions.Of(Analysis), CounterFigures.KvmEventsWithoutThread.Of(Analysis),
            CounterFigures.UnattributedQemuDiskEvents.Of(Analysis), CounterFigures.EventsWithoutTid.Of(Analysis),
            CounterFigures.BlockIssuesWithoutThread.Of(Analysis), CounterFigures.NetEventsWithoutThread.Of(Analysis),
            CounterFigures.TimeJumps.Of(Analysis), CounterFigures.TimeJumpNs.Of(Analysis), CounterFigures.NestedEventsOutOfSequence.Of(Analysis),
        ]);

        public static readonly MetricGroup<WindowMetrics> Window = new(MetricFormat.Json, "windows[]", MetricLevel.Window,
            [WindowFigures.StartNs, WindowFigures.EndNs, WindowFigures.Pcpus]);

        public static readonly MetricGroup<VmMetrics> Vm = new(MetricFormat.Json, Vms, MetricLevel.Vm,
        [
            VmFigures.Name, VmFigures.Pid, VmFigures.Identity, VmFigures.Origin, VmFigures.ThreadsCpuNs, VmFigures.PcpuShare,
            VmFigures.ActiveVcpus, .. VmFigures.PreemptedIntervals,
        ]);

        public static readonly MetricGroup<CpuTimes> VmTimes = new(MetricFormat.Json, Vms + ".vcpu_times", MetricLevel.Vm, CpuFigures.All);

        public static readonly MetricGroup<VcpuMetrics> Vcpu = new(MetricFormat.Json, Vms + ".vcpus[]", MetricLevel.Vcpu,
            [VcpuFigures.Id, VcpuFigures.Tid]);

        public static readonly MetricGroup<CpuTimes> VcpuTimes = new(MetricFormat.Json, Vms + ".vcpus[].times", MetricLevel.Vcpu, CpuFigures.All);

        public static readonly MetricGroup<ExitMetrics> VcpuExits = new(MetricFormat.Json, Vms + ".vcpus[].exits[]", MetricLevel.ExitReason,
            ExitEntries);

        public static readonly MetricGroup<ExitMetrics> VmExits = new(MetricFormat.Json, Vms + ".exits[]", MetricLevel.ExitReason, ExitEntries);

        public static readonly MetricGroup<DiskLayerMetrics> QemuDisk = new(MetricFormat.Json, Vms + ".qemu_disk", MetricLevel.DiskLayer, DiskEntries);

        public static readonly MetricGroup<LatencyMetrics> QemuDiskLatency = new(MetricFormat.Json, Vms + ".qemu_disk.latency", MetricLevel.DiskLayer,
            DiskFigures.Latency);

        public static readonly MetricGroup<DiskLayerMetrics> BlockDisk = new(MetricFormat.Json, Vms + ".block_disk", MetricLevel.DiskLayer, DiskEntries);

        public static readonly MetricGroup<LatencyMetrics> BlockDiskLatency = new(MetricFormat.Json, Vms + ".block_disk.latency", MetricLevel.DiskLayer,
            DiskFigures.Latency);

        public static readonly MetricGroup<NetworkMetrics> Network = new(MetricFormat.Json, Vms + ".network", MetricLevel.Vm, NetworkFigures.All);

        public static readonly MetricGroup<Interference> PreemptedBy = new(MetricFormat.Json, Vms + ".preempted_by[]", MetricLevel.Culprit,
            [InterferenceFigures.Culprit, InterferenceFigures.PreemptedNs]);

        public static readonly MetricGroup<WaitCauses> VmWaitCauses = new(MetricFormat.Json, Vms + ".wait_causes", MetricLevel.Vm, WaitCauseFigures.All);

        public static readonly MetricGroup<WaitCauses> VcpuWaitCauses = new(MetricFormat.Json, Vms + ".vcpus[].wait_causes", MetricLevel.Vcpu,
            WaitCauseFigures.All);

        public static readonly MetricGroup<WorkloadClass> Workload = new(MetricFormat.Json, Vms + ".workload", MetricLevel.Vm, WorkloadFigures.All,
            when: "in total: the VM's most frequent class over its windows, with confidence = the share of its windows in that class");

        public static readonly MetricGroup<GuestModes> VmGuestModes = new(MetricFormat.Json, Vms + ".guest_modes", MetricLevel.Vm, GuestModeFigures.All);

        public static readonly MetricGroup<GuestModes> VcpuGuestModes = new(MetricFormat.Json, Vms + ".vcpus[].guest_modes", MetricLevel.Vcpu,
            GuestModeFigures.All);

        public static readonly MetricGroup<GuestSpace> GuestSpaces = new(MetricFormat.Json, Vms + ".guest_spaces[]", MetricLevel.GuestSpace,
            [GuestSpaceFigures.Cr3, GuestSpaceFigures.GuestNs]);

        public static readonly ImmutableArray<MetricGroup> All =
        [
            Counters, Window, Vm, VmTimes, Vcpu, VcpuTimes, VcpuExits, VmExits, QemuDisk, QemuDiskLatency, BlockDisk, BlockDiskLatency, Network, PreemptedBy,
            VmWaitCauses, VcpuWaitCauses, Workload, VmGuestModes, VcpuGuestModes, GuestSpaces,
        ];

        private static ImmutableArray<Metric<ExitMetrics>> ExitEntries => [ExitFigures.Reason, ExitFigures.Isa, ExitFigures.Name, .. ExitFigures.Latency];

        private static ImmutableArray<Metric<DiskLayerMetrics>> DiskEntries =>
        [
            DiskFigures.Submitted, DiskFigures.Completed, DiskFigures.ReadRequests, DiskFigures.WriteRequests, DiskFigures.ReadBytes,
            DiskFigures.WriteBytes, DiskFigures.InFlight, DiskFigures.MaxInFlight, DiskFigures.SubmitIntervalMeanNs,
            DiskFigures.SubmitIntervalVarianceNs2.Named("submit_interval_variance_ns2"), DiskFigures.CompleteIntervalMeanNs,
            DiskFigures.CompleteIntervalVarianceNs2.Named("complete_interval_variance_ns2"),
        ];

    }

    /// <summary><c>vmtrace analyze --format csv</c>: one row per window and VM, these columns in this order.</summary>
    public static class Csv
    {
        // Readers of the parts, before the row that uses them (static fields initialise in order).
        private static readonly Func<VmRow, WindowMetrics> Window = r => r.Window;
        private static readonly Func<VmRow, VmMetrics> Vm = r => r.Vm;
        private static readonly Func<VmRow, IReadOnlyList<ExitMetrics>> Exits = r => r.Vm.Exits;
        private static readonly Func<VmRow, DiskLayerMetrics> QemuDisk = r => r.Vm.QemuDisk;
        private static readonly Func<VmRow, DiskLayerMetrics> BlockDisk = r => r.Vm.BlockDisk;
        private static readonly Func<VmRow, NetworkMetrics> Network = r => r.Vm.Network;

        public static readonly MetricGroup<VmRow> Row = new(MetricFormat.Csv, "row", MetricLevel.Vm,
        [
            WindowFigures.StartNs.Of(Window, "window_start_ns"), WindowFigures.EndNs.Of(Window, "window_end_ns"),
            Metric.Text<VmRow>("host", MetricKind.Label, "--host", "the traced host", r => r.Host),
            VmFigures.Name.Of(Vm), VmFigures.Pid.Of(Vm), VmFigures.ActiveVcpus.Of(Vm), VmFigures.ThreadsCpuNs.Of(Vm), VmFigures.PcpuShare.Of(Vm),
            .. CpuFigures.All.Select(m => m.Of((VmRow r) => r.Vm.VcpuTimes)),
            ExitListFigures.Count.Of(Exits), ExitListFigures.LatencySumNs.Of(Exits),
            DiskFigures.Submitted.Of(QemuDisk, "qemu_disk_submitted"), DiskFigures.Completed.Of(QemuDisk, "qemu_disk_completed"),
            LatencyFigures.SumNs.Of((VmRow r) => r.Vm.QemuDisk.Latency, "qemu_disk_latency_sum_ns"), DiskFigures.InFlight.Of(QemuDisk, "qemu_disk_in_flight"),
            DiskFigures.Submitted.Of(BlockDisk, "block_submitted"), DiskFigures.Completed.Of(BlockDisk, "block_completed"),
            DiskFigures.ReadBytes.Of(BlockDisk, "block_read_bytes"), DiskFigures.WriteBytes.Of(BlockDisk, "block_write_bytes"),
            LatencyFigures.SumNs.Of((VmRow r) => r.Vm.BlockDisk.Latency, "block_latency_sum_ns"), DiskFigures.InFlight.Of(BlockDisk, "block_in_flight"),
            NetworkFigures.RxPackets.Of(Network), NetworkFigures.RxBytes.Of(Network), NetworkFigures.TxPackets.Of(Network), NetworkFigures.TxBytes.Of(Network),
            Metric.Text<VmRow>("top_culprit", MetricKind.Label, "VmMetrics.Interferers: the first that is not other",
                "the VM's biggest culprit (empty when none)", r => r.TopCulprit?.Culprit ?? ""),
            Metric.Integer<VmRow>("top_culprit_preempted_ns", MetricKind.DurationNs, "VmMetrics.Interferers: the first that is not other",
                "its preempted_ns (0 when none)", r => r.TopCulprit?.PreemptedNs ?? 0),
            VmFigures.Identity.Of(Vm), .. VmFigures.PreemptedIntervals.Select(m => m.Of(Vm)),
            NetworkFigures.RxGapStdDevNs.Of(Network), NetworkFigures.TxGapStdDevNs.Of(Network),
            WorkloadFigures.Class.Of((VmRow r) => r.Workload, "workload_class"), WorkloadFigures.Confidence.Of((VmRow r) => r.Workload, "workload_confidence"),
            Metric.Text<VmRow>("dominant_workload_class", MetricKind.Label, "WorkloadSummary.Dominant",
                "the VM's most frequent class over all the windows of the run", r => r.DominantWorkload.Class),
            Metric.Float<VmRow>("dominant_workload_share", MetricKind.Ratio, "WorkloadSummary.Dominant",
                "the share (0..1) of the VM's windows in that class", r => r.DominantWorkload.Confidence),
        ]);

        /// <summary>With <c>--guest</c>: a second table after the VM rows and an empty line, one row per guest thread (totals over the range).</summary>
        public static readonly MetricGroup<GuestThreadRow> GuestThread = new(MetricFormat.Csv, "guest_thread", MetricLevel.GuestThread,
        [
            Metric.Text<GuestThreadRow>("host", MetricKind.Label, "--host", "the traced host", r => r.Host),
            GuestThreadFigures.Guest, GuestThreadFigures.Vm, GuestThreadFigures.Tid, GuestThreadFigures.Comm, .. GuestThreadFigures.Times,
        ]);
    }

    /// <summary>
    /// The InfluxDB points of one closed window (<c>vmtrace analyze --format line-protocol</c> and the worker), and the
    /// <c>pipeline_health</c> points of the analysis, the worker and the agents.
    /// </summary>
    public static class LineProtocol
    {
        public const string Health = "pipeline_health";

        // Read before the groups that use it (static fields initialise in order).
        private static readonly Func<VmRow, VmMetrics> VmOf = r => r.Vm;

        public static readonly MetricGroup<VmRow> Vm = new(MetricFormat.LineProtocol, "vmtrace_vm", MetricLevel.Vm,
        [
            WindowFigures.LengthNs.Of((VmRow r) => r.Window), VmFigures.ThreadsCpuNs.Of(VmOf), VmFigures.PcpuShare.Of(VmOf),
            VmFigures.ActiveVcpus.Of(VmOf), .. CpuFigures.All.Select(m => m.Of((VmRow r) => r.Vm.VcpuTimes)),
            ExitListFigures.Count.Of((VmRow r) => r.Vm.Exits), .. VmFigures.PreemptedIntervals.Select(m => m.Of(VmOf)), VmFigures.Identity.Of(VmOf),
        ], [Tags.Host, Tags.Vm]);

        public static readonly MetricGroup<VcpuMetrics> Vcpu = new(MetricFormat.LineProtocol, "vmtrace_vcpu", MetricLevel.Vcpu,
        [
            VcpuFigures.Tid, .. CpuFigures.All.Select(m => m.Of((VcpuMetrics v) => v.Times)), ExitListFigures.Count.Of((VcpuMetrics v) => v.Exits),
        ], [Tags.Host, Tags.Vm, Tags.Vcpu]);

        public static readonly MetricGroup<ExitMetrics> Exit = new(MetricFormat.LineProtocol, "vmtrace_exit", MetricLevel.ExitReason,
            ExitFigures.Latency, [Tags.Host, Tags.Vm, Tags.Reason, Tags.Isa, Tags.ReasonName]);

        public static readonly MetricGroup<DiskLayerMetrics> Disk = new(MetricFormat.LineProtocol, "vmtrace_disk", MetricLevel.DiskLayer,
        [
            DiskFigures.Submitted, DiskFigures.Completed, DiskFigures.ReadRequests, DiskFigures.WriteRequests, DiskFigures.ReadBytes,
            DiskFigures.WriteBytes, DiskFigures.InFlight, DiskFigures.MaxInFlight, DiskFigures.SubmitIntervalMeanNs, DiskFigures.SubmitIntervalVarianceNs2,
            DiskFigures.CompleteIntervalMeanNs, DiskFigures.CompleteIntervalVarianceNs2,
            LatencyFigures.Count.Of((DiskLayerMetrics d) => d.Latency, "latency_count"),
            .. LatencyFigures.All.Skip(1).Select(m => m.Of((DiskLayerMetrics d) => d.Latency)),
        ], [Tags.Host, Tags.Vm, Tags.Layer], "when the layer had requests in the window or has some in flight");

        public static readonly MetricGroup<NetworkMetrics> Network = new(MetricFormat.LineProtocol, "vmtrace_net", MetricLevel.Vm,
            NetworkFigures.All, [Tags.Host, Tags.Vm], "when there was traffic or vhost activity");

        public static readonly MetricGroup<Interference> Interference = new(MetricFormat.LineProtocol, "vmtrace_interference", MetricLevel.Culprit,
            [InterferenceFigures.PreemptedNs], [Tags.Host, Tags.Vm, Tags.Culprit], "one point per culprit");

        public static readonly MetricGroup<WaitCauses> VmWait = new(MetricFormat.LineProtocol, "vmtrace_vm_wait", MetricLevel.Vm,
            WaitCauseFigures.Fields((WaitCauses c) => c), [Tags.Host, Tags.Vm], "when waits of the VM's vCPUs ended in the window");

        public static readonly MetricGroup<WaitCauses> VcpuWait = new(MetricFormat.LineProtocol, "vmtrace_vcpu_wait", MetricLevel.Vcpu,
            WaitCauseFigures.Fields((WaitCauses c) => c), [Tags.Host, Tags.Vm, Tags.Vcpu], "when waits of the vCPU ended in the window");

        public static readonly MetricGroup<AnalysisCounters> AnalysisHealth = new(MetricFormat.LineProtocol, Health, MetricLevel.Host,
        [
            CounterFigures.AnalysedEvents, CounterFigures.InferredSwitches, CounterFigures.LostExits, CounterFigures.UnfinishedExits,
            CounterFigures.OutOfOrderEvents, CounterFigures.LossReports, CounterFigures.UnmatchedCompletions, CounterFigures.KvmEventsWithoutThread,
            CounterFigures.UnattributedQemuDiskEvents, CounterFigures.EventsWithoutTid, CounterFigures.BlockIssuesWithoutThread,
            CounterFigures.NetEventsWithoutThread, CounterFigures.TimeJumps, CounterFigures.TimeJumpNs,
        ], [Tags.Component, Tags.Host],
            "component=analysis: the host analysis's counters since the agent session started, written by the worker when windows " +
            "close (at the last closed window's start, event time) and when the session ends");

        public static readonly DescribedMetricGroup WorkerHealth = new(MetricFormat.LineProtocol, Health, MetricLevel.Host,
        [
            Worker("records_in", MetricKind.Count, "Kafka records consumed"),
            Worker("events_in", MetricKind.Count, "trace events in those records"),
            Worker("windows_written", MetricKind.Count, "windows closed and written"),
            Worker("points_written", MetricKind.Count, "points InfluxDB accepted"),
            Worker("dead_lettered", MetricKind.Count, "records sent to the dead-letter topic"),
            Worker("dead_letters_dropped", MetricKind.Count, "dead letters dropped: the bounded delivery queue stayed full (their records stay in the events topic)"),
            Worker("consume_errors", MetricKind.Count, "Kafka consume errors logged and skipped"),
            Worker("checkpoints", MetricKind.Count, "analysis checkpoints saved"),
            Worker("checkpoint_bytes", MetricKind.Bytes, "size of the last checkpoint"),
            Worker("consumer_lag", MetricKind.Count, "records behind the partitions' high watermarks"),
            Worker("watermark_lag_ns", MetricKind.DurationNs, "how far the event-time watermark trails the newest event"),
            Worker("kafka_down", MetricKind.Count, "1 while Kafka is unreachable"),
            Worker("kafka_outages", MetricKind.Count, "Kafka outages seen"),
            Worker("influx_down", MetricKind.Count, "1 while InfluxDB is unreachable"),
            Worker("influx_outages", MetricKind.Count, "InfluxDB outages seen"),
            Worker("write_stalls", MetricKind.Count, "times consumption waited for InfluxDB"),
            Metric.Described("write_latency_ms", MetricKind.DurationMs, MetricType.Float, "WorkerCounters.MeanWriteLatency", "mean InfluxDB write latency"),
            Worker("write_failures", MetricKind.Count, "InfluxDB writes that failed"),
            Worker("influx_retries", MetricKind.Count, "InfluxDB write retries"),
            Worker("influx_dead_lettered", MetricKind.Count, "lines InfluxDB refused, in the dead-letter file"),
            Worker("agent_skipped_events", MetricKind.Count, "events the agents left out (wire selection), as their records say"),
            Worker("sessions_cut_short", MetricKind.Count, "agent sessions that ended without their final record"),
            Worker("points_rejected", MetricKind.Count, "points refused by InfluxDB: in the dead-letter file, not in points_written"),
            Worker("dropped_by_retention", MetricKind.Count, "points older than the retention policy keeps: not stored, not in points_written"),
            Worker("health_backlog_dropped", MetricKind.Count, "health points dropped while InfluxDB was down (bounded backlog)"),
        ], [Tags.Component, Tags.Instance],
            "component=worker: counters since the worker started, written every Worker:HealthInterval at the wall-clock time (docs/pipeline.md)");

        public static readonly DescribedMetricGroup AgentHealth = new(MetricFormat.LineProtocol, Health, MetricLevel.Host,
        [
            Agent("events_read", MetricKind.Count, "events the agent's sources read"),
            Agent("events_sent", MetricKind.Count, "events sent"),
            Agent("events_skipped", MetricKind.Count, "events left out by the wire selection: the agent's only drops"),
            Agent("tracer_lost_events", MetricKind.Count, "events the tracer reported lost"),
            Agent("batches", MetricKind.Count, "event batches built"),
            Agent("batch_bytes", MetricKind.Bytes, "bytes of those batches"),
            Agent("records_produced", MetricKind.Count, "Kafka records produced"),
            Agent("records_delivered", MetricKind.Count, "records Kafka acknowledged"),
            Agent("delivery_errors", MetricKind.Count, "records Kafka refused"),
            Agent("buffered_records", MetricKind.Count, "records waiting for delivery"),
            Agent("buffered_bytes", MetricKind.Bytes, "their bytes"),
            Agent("buffered_bytes_peak", MetricKind.Bytes, "most bytes waiting at once"),
            Agent("buffer_capacity_bytes", MetricKind.Bytes, "the buffer's capacity"),
            Agent("buffer_full_waits", MetricKind.Count, "records whose sending waited for buffer space"),
            Agent("buffer_full_wait_ns", MetricKind.DurationNs, "time the source was blocked"),
            Agent("decode_errors", MetricKind.Count, "damaged places the decoders skipped"),
        ], [Tags.Component, Tags.Host],
            "component=agent: the agent's counters since it started, carried in the wire stream (agent health records, docs/wire-format.md) " +
            "and written by the worker at the agent's wall-clock sampling time, every Agent:HealthInterval and once after the final flush");

        public static readonly MetricGroup<Episode> Episode = new(MetricFormat.LineProtocol, "vmtrace_episode", MetricLevel.Episode,
        [
            EpisodeFigures.Severity, EpisodeFigures.DurationNs, EpisodeFigures.EndNs, EpisodeFigures.CulpritKind, EpisodeFigures.CulpritShare,
            EpisodeFigures.Advice,
        ], [Tags.Host, Tags.Vm, Tags.Resource, Tags.Culprit],
            "one point per interference episode, when it closes; the timestamp is its start (a Grafana annotation: time, timeEnd = time + duration_ns, text = advice)");

        public static readonly MetricGroup<WorkloadClass> Workload = new(MetricFormat.LineProtocol, "vmtrace_workload", MetricLevel.Vm,
            WorkloadFigures.All, [Tags.Host, Tags.Vm], "one point per VM and window");

        public static readonly MetricGroup<GuestModes> VmGuest = new(MetricFormat.LineProtocol, "vmtrace_vm_guest", MetricLevel.Vm,
            GuestModeFigures.Fields((GuestModes m) => m), [Tags.Host, Tags.Vm], "when the guest RIP told the mode of some of the VM's guest time");

        public static readonly MetricGroup<GuestModes> VcpuGuest = new(MetricFormat.LineProtocol, "vmtrace_vcpu_guest", MetricLevel.Vcpu,
            GuestModeFigures.Fields((GuestModes m) => m), [Tags.Host, Tags.Vm, Tags.Vcpu], "when the guest RIP told the mode of some of the vCPU's guest time");

        public static readonly MetricGroup<GuestSpace> GuestSpaces = new(MetricFormat.LineProtocol, "vmtrace_guest_space", MetricLevel.GuestSpace,
            [GuestSpaceFigures.GuestNs], [Tags.Host, Tags.Vm, Tags.Cr3], "one point per guest address space of the VM's guest_spaces (when it had guest time)");

        /// <summary>
        /// The groups of one window, then those of pipeline health, then the wait causes, the episodes, the workload classes, the guest
        /// modes and the guest address spaces.
        /// </summary>
        public static readonly ImmutableArray<MetricGroup> All =
        [
            Vm, Vcpu, Exit, Disk, Network, Interference, WorkerHealth, AgentHealth, AnalysisHealth, VmWait, VcpuWait, Episode, Workload,
            VmGuest, VcpuGuest, GuestSpaces,
        ];

        public static readonly MetricGroup<GuestThreadRow> GuestThread = new(MetricFormat.LineProtocol, "vmtrace_guest_thread", MetricLevel.GuestThread,
            GuestThreadFigures.Times, [Tags.Host, Tags.Vm, Tags.Guest, Tags.Tid, Tags.Comm],
            "with guest traces (analyze --guest, Agent:Guests): one point per guest thread with run time, at the end of the analysis " +
            "(timestamp: the range's end, where the last window ends); the fields are totals over the range analysed");

        /// <summary>The measurements of the fused host+guest analysis, written only when guest traces are read with their host's.</summary>
        public static readonly ImmutableArray<MetricGroup> Fused = [GuestThread];

        /// <summary>Every measurement: those of every host (<see cref="All"/>), then the fused analysis's.</summary>
        public static IEnumerable<MetricGroup> Measurements => [.. All, .. Fused];

        private static Metric Worker(string name, MetricKind kind, string description) =>
            Metric.Described(name, kind, MetricType.Integer, "WorkerCounters (worker)", description);

        private static Metric Agent(string name, MetricKind kind, string description) =>
            Metric.Described(name, kind, MetricType.Integer, "WireAgentHealth (agent)", description);
    }

    /// <summary>An interference episode (<see cref="Episode"/>, docs/metrics.md "Interference episodes").</summary>
    public static class EpisodeFigures
    {
        public static readonly Metric<Episode> Vm = Metric.Text<Episode>("vm", MetricKind.Label, "Episode.Vm", "the VM that lost the resource", e => e.Vm);

        public static readonly Metric<Episode> Resource = Metric.Text<Episode>("resource", MetricKind.Label, "Episode.Resource",
            "cpu (CPU time its vCPUs wanted, lost to others), exits (an exit storm of one reason), disk (request time lost to latency above its own baseline) or net (its vhost threads' time waiting for pCPUs others held)", e => e.Resource);

        public static readonly Metric<Episode> StartNs = Metric.Integer<Episode>("start_ns", MetricKind.TimestampNs, "Episode.StartNs",
            "start of the episode's first window", e => e.StartNs);

        public static readonly Metric<Episode> EndNs = Metric.Integer<Episode>("end_ns", MetricKind.TimestampNs, "Episode.EndNs",
            "end of its last window", e => e.EndNs);

        public static readonly Metric<Episode> DurationNs = Metric.Integer<Episode>("duration_ns", MetricKind.DurationNs, "Episode.DurationNs",
            "end_ns − start_ns", e => e.DurationNs);

        public static readonly Metric<Episode> Severity = Metric.Float<Episode>("severity", MetricKind.Ratio, "Episode.Severity",
            "fraction (0..1) of the time the VM wanted that it lost over the episode (cpu, disk, net: lost_ns / wanted_ns; exits: excess_handling_ns / wanted_ns)",
            e => e.Severity);

        public static readonly Metric<Episode> CulpritKind = Metric.Text<Episode>("culprit_kind", MetricKind.Label, "Episode.TopCulprit.Kind",
            "vm, host or hypervisor: the kind of the largest culprit (empty when none is known)", e => e.TopCulprit?.Kind ?? "");

        public static readonly Metric<Episode> CulpritShare = Metric.Float<Episode>("culprit_share", MetricKind.Ratio, "Episode.TopCulprit.Share",
            "its share of the lost time (0 when none is known)", e => e.TopCulprit?.Share ?? 0);

        public static readonly Metric<Episode> Advice = Metric.Text<Episode>("advice", MetricKind.Label, "Episode.Advice",
            "what to do, derived from the evidence", e => e.Advice);
    }

    /// <summary>A culprit of an episode.</summary>
    public static class EpisodeCulpritFigures
    {
        public static readonly Metric<EpisodeCulprit> Name = Metric.Text<EpisodeCulprit>("name", MetricKind.Label, "EpisodeCulprit.Name",
            "a VM's name, a host process's comm, a hypervisor thread's comm, an exit reason, or host block I/O (disk: host threads' own requests)", c => c.Name);

        public static readonly Metric<EpisodeCulprit> Kind = Metric.Text<EpisodeCulprit>("kind", MetricKind.Label, "EpisodeCulprit.Kind",
            "vm, host or hypervisor", c => c.Kind);

        public static readonly Metric<EpisodeCulprit> Share = Metric.Float<EpisodeCulprit>("share", MetricKind.Ratio, "EpisodeCulprit.Share",
            "its part of the lost time (cpu: of the preempted time charged to others; disk: of the culprits' I/O and pCPU time; net: of the pCPU time taken; exits: 1)", c => c.Share);
    }

    /// <summary>The top-level <c>interference[]</c> array of <c>vmtrace analyze --format json</c>.</summary>
    public static class EpisodeJson
    {
        public static readonly MetricGroup<Episode> Episode = new(MetricFormat.Json, "interference[]", MetricLevel.Episode,
        [
            EpisodeFigures.Vm, EpisodeFigures.Resource, EpisodeFigures.StartNs, EpisodeFigures.EndNs, EpisodeFigures.DurationNs,
            EpisodeFigures.Severity, EpisodeFigures.Advice,
        ]);

        public static readonly MetricGroup<EpisodeCulprit> Culprit = new(MetricFormat.Json, "interference[].culprits[]", MetricLevel.Episode,
            [EpisodeCulpritFigures.Name, EpisodeCulpritFigures.Kind, EpisodeCulpritFigures.Share]);

        public static readonly ImmutableArray<MetricGroup> All = [Episode, Culprit];
    }

    /// <summary>One vCPU of an L2 guest that a VM runs (docs/metrics.md, "Nested VMs"). Synthetic traces only: no nested KVM was traced.</summary>
    public static class NestedFigures
    {
        public static readonly Metric<NestedGuestMetrics> L2 = Metric.Text<NestedGuestMetrics>("l2", MetricKind.Label, "NestedGuestMetrics.L2",
            "the L2 guest: ept:0x… (the nested page table root kvm_nested_vmenter gives), l1cr3:0x… (the L1 process running it, from " +
            "addons_vcpu_enter_guest) or unknown", g => g.L2);

        public static readonly Metric<NestedVcpuMetrics> Vcpu = Metric.Integer<NestedVcpuMetrics>("l2_vcpu", MetricKind.Identifier,
            "NestedVcpuMetrics.Vcpu", "the L2 vCPU, numbered within its L2 guest in the order first entered", v => v.Vcpu);

        public static readonly Metric<NestedVcpuMetrics> Vmcs = Metric.Text<NestedVcpuMetrics>("vmcs", MetricKind.Label,
            "NestedVcpuMetrics.Vmcs", "the L1 address of its vmcs12 (VMX) or vmcb (SVM) from kvm_nested_vmenter, left out when the trace has none",
            v => v.Vmcs.Length > 0 ? v.Vmcs : null);

        public static readonly Metric<NestedVcpuMetrics> L1Vcpu = Metric.Integer<NestedVcpuMetrics>("l1_vcpu", MetricKind.Identifier,
            "NestedVcpuMetrics.L1Vcpu", "the L1 vCPU (the VM's vCPU id) last seen entering it", v => v.L1Vcpu);

        public static readonly Metric<NestedVcpuMetrics> L2RunningNs = Metric.Integer<NestedVcpuMetrics>("l2_running_ns", MetricKind.DurationNs,
            "NestedTimes.L2RunningNs", "L2 running (nested non-root): the L1 vCPU thread in guest mode running the L2", v => v.Times.L2RunningNs);

        public static readonly Metric<NestedVcpuMetrics> L1RootNs = Metric.Integer<NestedVcpuMetrics>("l1_root_ns", MetricKind.DurationNs,
            "NestedTimes.L1RootNs", "L1 root (nested root): in guest mode running the L1 hypervisor, from the entry after an exit of the L2 was " +
            "reflected to it (kvm_nested_vmexit_inject) to its next VMLAUNCH/VMRESUME", v => v.Times.L1RootNs);

        public static readonly Metric<NestedVcpuMetrics> L0RootNs = Metric.Integer<NestedVcpuMetrics>("l0_root_ns", MetricKind.DurationNs,
            "NestedTimes.L0RootNs", "L0 root: on a pCPU in the host (out of guest mode) in the L2's nested context: handling or reflecting the " +
            "L2's exits, emulating the L1's VMLAUNCH/VMRESUME, handling the L1's exits while it works for the L2", v => v.Times.L0RootNs);

        public static readonly Metric<NestedVcpuMetrics> L1PreemptedNs = Metric.Integer<NestedVcpuMetrics>("l1_preempted_ns", MetricKind.DurationNs,
            "NestedTimes.L1PreemptedNs", "L1 preempted: the L1 vCPU thread off a pCPU while runnable (preempted, or woken and waiting) in the L2's " +
            "nested context", v => v.Times.L1PreemptedNs);

        public static readonly Metric<NestedVcpuMetrics> BlockedNs = Metric.Integer<NestedVcpuMetrics>("l1_blocked_ns", MetricKind.DurationNs,
            "NestedTimes.BlockedNs", "the L1 vCPU thread sleeping on the host in the L2's nested context", v => v.Times.BlockedNs);

        public static readonly Metric<NestedVcpuMetrics> L2Exits = Metric.Integer<NestedVcpuMetrics>("l2_exits", MetricKind.Count,
            "NestedVcpuMetrics.L2Exits", "exits of the L2 (kvm_exit while it ran)", v => v.L2Exits);

        public static readonly Metric<NestedVcpuMetrics> ReflectedExits = Metric.Integer<NestedVcpuMetrics>("reflected_exits", MetricKind.Count,
            "NestedVcpuMetrics.ReflectedExits", "those L0 reflected to the L1 (kvm_nested_vmexit_inject); the others L0 handled itself",
            v => v.ReflectedExits);

        public static readonly Metric<NestedVcpuMetrics> L1Exits = Metric.Integer<NestedVcpuMetrics>("l1_exits", MetricKind.Count,
            "NestedVcpuMetrics.L1Exits", "exits the L1 made to L0 while handling the L2's exits (other than its VMLAUNCH/VMRESUME and HLT)",
            v => v.L1Exits);

        public static readonly ImmutableArray<Metric<NestedVcpuMetrics>> All =
            [Vcpu, Vmcs, L1Vcpu, L2RunningNs, L1RootNs, L0RootNs, L1PreemptedNs, BlockedNs, L2Exits, ReflectedExits, L1Exits];
    }

    /// <summary>
    /// The outputs of nested virtualisation (docs/metrics.md, "Nested VMs"): the JSON objects under each VM and the line protocol
    /// measurement. Apart from <see cref="Json.All"/> and <see cref="LineProtocol.All"/>, which every real trace's output and the
    /// dashboards cover: no real trace has nested KVM, these are tested on synthetic traces only.
    /// </summary>
    public static class NestedOutput
    {
        public static readonly MetricGroup<NestedGuestMetrics> JsonGuest = new(MetricFormat.Json, "windows[].vms[].nested[]", MetricLevel.Vm,
            [NestedFigures.L2], when: "when the VM's vCPUs ran L2 guests");

        public static readonly MetricGroup<NestedVcpuMetrics> JsonVcpu = new(MetricFormat.Json, "windows[].vms[].nested[].vcpus[]",
            MetricLevel.NestedVcpu, NestedFigures.All);

        public static readonly MetricGroup<NestedVcpuMetrics> LineProtocol = new(MetricFormat.LineProtocol, "vmtrace_nested", MetricLevel.NestedVcpu,
            [.. NestedFigures.All.Where(m => m != NestedFigures.Vcpu && m != NestedFigures.Vmcs)], [Tags.Host, Tags.Vm, Tags.L2, Tags.L2Vcpu],
            "one point per L2 vCPU with figures in the window");

        public static readonly ImmutableArray<MetricGroup> All = [JsonGuest, JsonVcpu, LineProtocol];
    }

    /// <summary>Every group of every output.</summary>
    public static IEnumerable<MetricGroup> Groups => [.. Json.All, Csv.Row, .. LineProtocol.All, .. EpisodeJson.All, .. NestedOutput.All, Csv.GuestThread, .. LineProtocol.Fused];

    /// <summary>Every figure of the table, once, in the order of first appearance.</summary>
    public static IReadOnlyList<Metric> Figures => [.. Groups.SelectMany(g => g.Fields).Select(m => m.Figure).Distinct()];
}
