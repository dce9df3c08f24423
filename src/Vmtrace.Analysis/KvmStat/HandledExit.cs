namespace Vmtrace.Analysis;

/// <summary>
/// One VM exit paired with the next entry of its thread: <paramref name="LatencyNs"/> is the time from the kvm_exit
/// to that kvm_entry, as the per-reason exit latencies of the metrics count it.
/// </summary>
public readonly record struct HandledExit(string Vm, int VcpuId, int Tid, int Reason, ExitIsa Isa, long LatencyNs);
