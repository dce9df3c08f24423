namespace Vmtrace.Analysis;

/// <summary>What <c>perf kvm stat report --event</c> analyses: VM exits, port I/O (kvm_pio) or MMIO (kvm_mmio).</summary>
public enum KvmStatEvent
{
    VmExit,
    IoPort,
    Mmio,
}

/// <summary>The order of the rows, as perf's <c>--key</c>: every key sorts from the biggest down.</summary>
public enum KvmStatKey
{
    Sample,
    Time,
    Max,
    Min,
    Mean,
}

/// <summary>
/// One row of the report: an exit reason ("HLT"), a port ("0x3f8:POUT") or an MMIO address ("0xfec00000:W").
/// <see cref="StddevPct"/> is perf's "+-": the standard deviation of the mean (sample standard deviation / √n)
/// relative to the mean, in percent; 0 for a single sample.
/// </summary>
public sealed record KvmStatRow(string Key, long Samples, double SamplesPct, double TimePct, long TimeNs, long MinNs, long MaxNs, double AvgNs, double StddevPct);

/// <summary>
/// <c>perf kvm stat report</c> over a host trace. <see cref="EventsPresent"/> is false when the trace has none of the
/// events the analysed kind needs (kvm_exit for VM exits, kvm_pio for port I/O, kvm_mmio for MMIO).
/// </summary>
public sealed record KvmStatReport(KvmStatEvent Event, IReadOnlyList<KvmStatRow> Rows, long TotalSamples, long TotalTimeNs, bool EventsPresent);
