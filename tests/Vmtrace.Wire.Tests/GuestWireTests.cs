using Google.Protobuf;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using WireProto = Vmtrace.Wire.Proto;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// Guests on the wire (schema version 3): the inventory's guests and the batches' per-event guest index, as the .proto
/// (parsed with the generated classes) and the worker's reader see them.
/// </summary>
public sealed class GuestWireTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";

    /// <summary>Trace Compass's stub pair merged by time (host input 0, guest input 1) in one batch.</summary>
    [CorpusFact]
    public void Batch_HostAndGuestEvents_Version3AndEachEventsGuestReadBack()
    {
        using var merged = new MergedEventSource([TraceOpener.Open(Corpus.Path(Stub + "host.xml")), TraceOpener.Open(Corpus.Path(Stub + "guest.xml"))]);
        var writer = new EventBatchWriter(new HostRecordWriter("h", "s")) { GuestNames = ["qemu-t31"] };
        var sent = new List<(int Guest, long Timestamp)>();
        while (merged.MoveNext())
        {
            Assert.True(writer.Append(merged.Current, merged.CurrentInput));
            sent.Add((merged.CurrentInput, merged.Current.Timestamp));
        }
        Assert.Contains(sent, s => s.Guest == 0);
        Assert.Contains(sent, s => s.Guest == 1);
        var record = writer.Flush();

        var parsed = WireProto.HostRecord.Parser.ParseFrom(record);
        Assert.Equal(3u, parsed.SchemaVersion);
        Assert.Equal(["qemu-t31"], parsed.Events.Guests);
        Assert.Equal(sent.Select(s => (uint)s.Guest), parsed.Events.GuestIndexes);

        var reader = new EventBatchReader();
        reader.Load(record);
        var read = new List<(int Guest, long Timestamp)>();
        while (reader.MoveNext())
            read.Add((reader.CurrentGuest, reader.Current.Timestamp));
        Assert.Equal(["qemu-t31"], reader.GuestNames);
        Assert.Equal(sent, read);
    }

    [CorpusFact]
    public void Batch_OnlyHostEventsWithGuestsSet_StaysVersion1WithoutGuestColumns()
    {
        using var host = TraceOpener.Open(Corpus.Path(Stub + "host.xml"));
        var writer = new EventBatchWriter(new HostRecordWriter("h", "s")) { GuestNames = ["qemu-t31"] };
        while (host.MoveNext())
            writer.Append(host.Current, 0);

        var parsed = WireProto.HostRecord.Parser.ParseFrom(writer.Flush());

        Assert.Equal(1u, parsed.SchemaVersion);
        Assert.Empty(parsed.Events.GuestIndexes);
        Assert.Empty(parsed.Events.Guests);
    }

    [Fact]
    public void Inventory_WithGuests_Version3RoundTrips()
    {
        var inventory = new WireInventory([], [new WireThreadName(1, "init")], 7)
        {
            Guests = [new WireGuest("Salamander4", [new WireGuestCpu(0, 483882)], [new WireThreadName(512, "trace-cmd")]), new WireGuest("vm2", [], [])],
        };
        var record = new HostRecordWriter("h", "s").Inventory(inventory);

        var parsed = WireProto.HostRecord.Parser.ParseFrom(record);
        Assert.Equal(3u, parsed.SchemaVersion);
        Assert.Equal(["Salamander4", "vm2"], parsed.Inventory.Guests.Select(g => g.Name));
        Assert.Equal((0, 483882), (parsed.Inventory.Guests[0].Cpus[0].Cpu, parsed.Inventory.Guests[0].Cpus[0].HostTid));
        Assert.Equal((512, "trace-cmd"), (parsed.Inventory.Guests[0].ThreadNames[0].Tid, parsed.Inventory.Guests[0].ThreadNames[0].Comm));

        var back = HostRecord.Read(record).ReadInventory();
        Assert.Equal(2, back.Guests.Count);
        Assert.Equal(("Salamander4", new WireGuestCpu(0, 483882), new WireThreadName(512, "trace-cmd")),
            (back.Guests[0].Name, Assert.Single(back.Guests[0].Cpus), Assert.Single(back.Guests[0].ThreadNames)));
        Assert.Equal("vm2", back.Guests[1].Name);
        Assert.Empty(back.Guests[1].Cpus);
        // Without guests an inventory stays version 1, readable by every worker.
        Assert.Equal(1u, WireProto.HostRecord.Parser.ParseFrom(new HostRecordWriter("h", "s").Inventory(inventory with { Guests = [] })).SchemaVersion);
    }

    [Fact]
    public void Read_GuestIndexBeyondTheBatchsGuests_NamesTheEvent()
    {
        var batch = new WireProto.EventBatch { EventCount = 1 };
        batch.EventTypes.Add(new WireProto.EventTypeDesc { Name = "x" });
        batch.TimestampDeltas.Add(5);
        batch.TypeIndexes.Add(0);
        batch.Cpus.Add(0);
        batch.TidDeltas.Add(1);
        batch.GuestIndexes.Add(2);
        batch.Guests.Add("g");
        var record = new WireProto.HostRecord { SchemaVersion = 3, HostId = "h", Events = batch }.ToByteArray();
        var reader = new EventBatchReader();
        reader.Load(record);

        var ex = Assert.ThrowsAny<WireFormatException>(() => reader.MoveNext());
        Assert.Contains("guest_indexes: event 0 is of guest 2, but the batch names 1 guests", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_GuestNotSet_Refused()
    {
        var writer = new EventBatchWriter(new HostRecordWriter("h"));
        var source = ScriptedEvents.Mixed();
        Assert.True(source.MoveNext());
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(source.Current, 1));
    }
}
