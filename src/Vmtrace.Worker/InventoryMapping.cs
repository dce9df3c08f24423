using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.Wire;

namespace Vmtrace.Worker;

/// <summary>
/// Wire inventory → analysis inventory (the worker, and <c>vmtrace top</c> on its live source), and the canonical
/// text that tells a changed inventory from a repeat.
/// </summary>
public static class InventoryMapping
{
    public static string Canonical(WireInventory inventory) => JsonSerializer.Serialize(inventory with { SampledAtNs = 0 });

    public static string Serialize(WireInventory inventory) => JsonSerializer.Serialize(inventory);

    public static WireInventory Deserialize(string json) =>
        JsonSerializer.Deserialize<WireInventory>(json) ?? throw new FormatException("checkpoint: inventory is null");

    /// <summary>Thread names first, then every VM, in the agent's order (what <c>vmtrace analyze</c> does with vmmap.json).</summary>
    public static void Apply(HostAnalysis analysis, WireInventory inventory)
    {
        var names = new Dictionary<int, string>();
        foreach (var n in inventory.ThreadNames)
            names[n.Tid] = n.Comm;
        if (names.Count > 0)
            analysis.AddThreadNames(names);
        foreach (var vm in inventory.Vms)
        {
            analysis.AddInventory(new VmInventory(vm.Name, vm.Pid,
                vm.Threads.Select(t => new InventoryThread(t.Tid, t.Comm, t.VcpuIndex)).ToList(), vm.TapDevices.ToList())
            {
                Identity = vm.Identity.Length > 0 ? vm.Identity : VmIdentity.Vmmap,
                Evidence = vm.Evidence,
            });
        }
    }
}
