namespace Vmtrace.Analysis;

/// <summary>The workload class of each VM over a run: the class most of its windows have.</summary>
public static class WorkloadSummary
{
    /// <summary>
    /// Per VM, its most frequent class over <paramref name="windows"/> (a tie goes to the class first in name order), with
    /// confidence = the share of the VM's windows in that class.
    /// </summary>
    public static IReadOnlyDictionary<string, WorkloadClass> Dominant(IEnumerable<WindowMetrics> windows, WorkloadModel model)
    {
        var counts = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var w in windows)
        {
            foreach (var vm in w.Vms)
            {
                if (!counts.TryGetValue(vm.Vm, out var byClass))
                    counts[vm.Vm] = byClass = new Dictionary<string, int>(StringComparer.Ordinal);
                string c = model.Classify(w, vm).Class;
                byClass[c] = byClass.GetValueOrDefault(c) + 1;
            }
        }
        var result = new Dictionary<string, WorkloadClass>(StringComparer.Ordinal);
        foreach (var (vm, byClass) in counts)
        {
            var top = byClass.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
            result[vm] = new WorkloadClass(top.Key, Math.Round((double)top.Value / byClass.Values.Sum(), 4, MidpointRounding.ToEven));
        }
        return result;
    }
}
