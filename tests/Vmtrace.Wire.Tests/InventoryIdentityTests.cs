using WireProto = Vmtrace.Wire.Proto;

namespace Vmtrace.Wire.Tests;

/// <summary>A VM's identity (how it was found) and its evidence cross the wire, by the .proto's fields 6 and 7.</summary>
public class InventoryIdentityTests
{
    [Fact]
    public void Inventory_IdentityAndEvidence_BothDirections()
    {
        var inventory = new WireInventory(
            [new WireVm("qemu-14313", 14313, "", [],
                [new WireVmThread(14313, "qemu-system-x86"), new WireVmThread(14327, "qemu-system-x86", 0)],
                "guess", "3 qemu threads grouped by wake-ups"),
             new WireVm("web", 4242, "", [], [new WireVmThread(4242, "qemu-system-x86")])],
            []);
        byte[] record = new HostRecordWriter("host-1").Inventory(inventory);

        var parsed = WireProto.HostRecord.Parser.ParseFrom(record);
        Assert.Equal(["guess", ""], parsed.Inventory.Vms.Select(v => v.Identity));
        Assert.Equal("3 qemu threads grouped by wake-ups", parsed.Inventory.Vms[0].Evidence);

        var back = HostRecord.Read(record).ReadInventory();
        Assert.Equal(("guess", "3 qemu threads grouped by wake-ups"), (back.Vms[0].Identity, back.Vms[0].Evidence));
        Assert.Equal(("", ""), (back.Vms[1].Identity, back.Vms[1].Evidence));
        Assert.Equal([-1, 0], back.Vms[0].Threads.Select(t => t.VcpuIndex));
    }
}
