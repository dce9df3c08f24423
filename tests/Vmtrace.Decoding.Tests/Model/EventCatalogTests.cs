namespace Vmtrace.Decoding.Tests.Model;

public class EventCatalogTests
{
    [Theory]
    [InlineData("kvm_entry", KnownEvent.KvmEntry)]
    [InlineData("kvm_x86_entry", KnownEvent.KvmEntry)]
    [InlineData("kvm_x86_exit", KnownEvent.KvmExit)]
    [InlineData("net_if_rx", KnownEvent.NetifRx)]
    [InlineData("netif_rx", KnownEvent.NetifRx)]
    [InlineData("sched:sched_switch", KnownEvent.SchedSwitch)]
    [InlineData("qemu:thread_pool_submit", KnownEvent.QemuThreadPoolSubmit)]
    [InlineData("irq_softirq_entry", KnownEvent.SoftirqEntry)]
    [InlineData("syscall_entry_ioctl", KnownEvent.Unknown)]
    public void Classify_TracerSpecificName_MapsToOneKnownEvent(string name, KnownEvent expected) =>
        Assert.Equal(expected, EventCatalog.Classify(name));

    [Fact]
    public void Slot_FtraceAndLttngSchedSwitch_ResolveSameRoles()
    {
        var ftrace = new EventType("sched_switch",
        [
            new("prev_comm", FieldKind.String), new("prev_pid", FieldKind.Signed), new("prev_prio", FieldKind.Signed),
            new("prev_state", FieldKind.Signed), new("next_comm", FieldKind.String), new("next_pid", FieldKind.Signed),
            new("next_prio", FieldKind.Signed),
        ]);
        var lttng = new EventType("sched_switch",
        [
            new("prev_comm", FieldKind.String), new("prev_tid", FieldKind.Signed), new("prev_prio", FieldKind.Signed),
            new("prev_state", FieldKind.Signed), new("next_comm", FieldKind.String), new("next_tid", FieldKind.Signed),
            new("next_prio", FieldKind.Signed),
        ]);
        Assert.Equal(1, ftrace.Slot(FieldRole.PrevTid));
        Assert.Equal(1, lttng.Slot(FieldRole.PrevTid));
        Assert.Equal(5, ftrace.Slot(FieldRole.NextTid));
        Assert.Equal(5, lttng.Slot(FieldRole.NextTid));
        Assert.Equal(-1, ftrace.Slot(FieldRole.VcpuId));
    }

    [Fact]
    public void Slot_ForkChildPid_OnlyWhenTracerSeparatesTidFromPid()
    {
        var ftrace = new EventType("sched_process_fork",
            [new("parent_comm", FieldKind.String), new("parent_pid", FieldKind.Signed), new("child_comm", FieldKind.String), new("child_pid", FieldKind.Signed)]);
        var lttng = new EventType("sched_process_fork",
        [
            new("parent_comm", FieldKind.String), new("parent_tid", FieldKind.Signed), new("parent_pid", FieldKind.Signed),
            new("child_comm", FieldKind.String), new("child_tid", FieldKind.Signed), new("child_pid", FieldKind.Signed),
        ]);
        Assert.Equal(3, ftrace.Slot(FieldRole.ChildTid));
        Assert.Equal(-1, ftrace.Slot(FieldRole.ChildPid));
        Assert.Equal(4, lttng.Slot(FieldRole.ChildTid));
        Assert.Equal(5, lttng.Slot(FieldRole.ChildPid));
    }

    [Fact]
    public void View_StringsAndIntegers_ReadBackWithoutCopy()
    {
        var type = new EventType("net_dev_xmit",
            [new("skbaddr", FieldKind.Unsigned, 16), new("len", FieldKind.Unsigned), new("name", FieldKind.String)]);
        var buffer = new EventRecordBuffer();
        buffer.Reset(type);
        buffer.SetInt(0, unchecked((long)0xffff8880deadbeefUL));
        buffer.SetInt(1, 1514);
        buffer.SetString(2, "tap0"u8);
        var e = buffer.View(1_000_000_123, 1, 42, type);
        Assert.Equal(1514, e.Get(FieldRole.Len));
        Assert.True(e.GetText(FieldRole.DeviceName).SequenceEqual("tap0"u8));
        Assert.Equal("1.000000123 [1] 42 net_dev_xmit: skbaddr=0xffff8880deadbeef, len=1514, name=\"tap0\"", EventFormatter.Format(e));
    }
}
