using System.Globalization;
using Vmtrace.Analysis;

namespace Vmtrace.Wire.Tests;

/// <summary>Between the analysis' <see cref="VmInventory"/> and the wire's <see cref="WireVm"/> (the worker's mapping).</summary>
internal static class InventoryMapping
{
    public static WireVm ToWire(VmInventory vm) => new(vm.Name, vm.Pid, "", vm.TapDevices.ToList(),
        vm.Threads.Select(t => new WireVmThread(t.Tid, t.Comm, VcpuIndexOf(t.Comm))).ToList());

    public static VmInventory ToAnalysis(WireVm vm) =>
        new(vm.Name, vm.Pid, vm.Threads.Select(t => new InventoryThread(t.Tid, t.Comm)).ToList(), vm.TapDevices.ToList());

    /// <summary>qemu names vCPU threads "CPU n/KVM" or "CPU n/TCG".</summary>
    private static int VcpuIndexOf(string comm)
    {
        int slash = comm.IndexOf('/', StringComparison.Ordinal);
        return comm.StartsWith("CPU ", StringComparison.Ordinal) && slash > 4
            && int.TryParse(comm.AsSpan(4, slash - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;
    }
}
