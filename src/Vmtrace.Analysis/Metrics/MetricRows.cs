using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>One VM in one window, as a CSV row and a <c>vmtrace_vm</c> point read it.</summary>
public readonly record struct VmRow(string Host, WindowMetrics Window, VmMetrics Vm)
{
    /// <summary>The VM's workload class in the window (CSV only; default when not classified).</summary>
    public WorkloadClass Workload { get; init; }

    /// <summary>The VM's most frequent class over the whole run (CSV only; default when not classified).</summary>
    public WorkloadClass DominantWorkload { get; init; }

    /// <summary>The VM's biggest culprit other than the summed rest (<see cref="MetricsMerge.Other"/>), if any.</summary>
    public Interference? TopCulprit
    {
        get
        {
            foreach (var i in Vm.Interferers)
            {
                if (i.Culprit != MetricsMerge.Other)
                    return i;
            }
            return null;
        }
    }
}

/// <summary>What an analysis counted, with what its trace readers reported (the JSON <c>counters</c>).</summary>
public readonly record struct AnalysisCounterSources(AnalysisCounters Counters, SourceDiagnostics Diagnostics);

/// <summary>One guest thread of the fused host+guest analysis, as a CSV row and a <c>vmtrace_guest_thread</c> point read it.</summary>
public readonly record struct GuestThreadRow(string Host, GuestMetrics Guest, GuestThreadTimes Thread);
