using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>
/// A host replayed with a guest trace (<c>Agent:Guests</c>), on the real hip24 trace-cmd host+guest recording: the inventory
/// lists the guest with the host thread of its CPU (the host trace's GUEST option) and the guest's names, and the batches
/// hold every event of both traces once, in time order, each marked with whose it is.
/// </summary>
public class GuestReplayTests
{
    private const string Pair = "hip24-kvm-host-guest-pair/";

    private sealed class ListSink : IRecordSink
    {
        public List<byte[]> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add(value);

        public void Flush(TimeSpan timeout)
        {
        }
    }

    [CorpusFact]
    public void Run_HostWithGuest_InventoryListsTheGuestAndBatchesMarkItsEvents()
    {
        string host = Corpus.Path(Pair + "host.trace.dat"), guest = Corpus.Path(Pair + "guest-Salamander4.trace.dat");
        var sink = new ListSink();
        new AgentPipeline(new ReplaySource([host], "pair", guests: [new GuestTrace("Salamander4", guest)]), sink,
            new AgentOptions { BatchMaxEvents = 4096 }).Run(CancellationToken.None);

        var inventory = HostRecord.Read(sink.Records[0]).ReadInventory();
        var g = Assert.Single(inventory.Guests);
        Assert.Equal("Salamander4", g.Name);
        // SOURCES.md 1a: the host trace's GUEST option maps guest CPU 0 to host thread 483882.
        Assert.Equal(new WireGuestCpu(0, 483882), Assert.Single(g.Cpus));
        using (var guestSource = TraceOpener.Open(guest))
            Assert.Equal(guestSource.InitialThreadNames.Count, g.ThreadNames.Count);

        long hostEvents = Count(host), guestEvents = Count(guest);
        Assert.True(hostEvents > 0 && guestEvents > 0);
        var reader = new EventBatchReader();
        long sentHost = 0, sentGuest = 0, previous = long.MinValue;
        foreach (var value in sink.Records)
        {
            var record = HostRecord.Read(value);
            if (record.Kind != HostRecordKind.EventBatch)
                continue;
            reader.Load(record);
            while (reader.MoveNext())
            {
                Assert.True(reader.Current.Timestamp >= previous, "events out of time order");
                previous = reader.Current.Timestamp;
                if (reader.CurrentGuest == 0)
                {
                    sentHost++;
                }
                else
                {
                    Assert.Equal("Salamander4", reader.GuestNames[reader.CurrentGuest - 1]);
                    sentGuest++;
                }
            }
        }
        Assert.Equal((hostEvents, guestEvents), (sentHost, sentGuest));
    }

    [Fact]
    public void AgentOptions_Guests_ReplayOnlyAndTheTraceMustExist()
    {
        var live = new AgentOptions { Live = true, Guests = { ["vm1"] = "/" } }.Problems().ToList();
        Assert.Contains(live, p => p.StartsWith("Agent:Guests applies to replays only", StringComparison.Ordinal));
        var missing = new AgentOptions { Inputs = ["/"], Guests = { ["vm1"] = "/no/such/guest.dat" } }.Problems().ToList();
        Assert.Contains("Agent:Guests:vm1: '/no/such/guest.dat' does not exist", missing);
        Assert.Empty(new AgentOptions { Inputs = ["/"], Guests = { ["vm1"] = "/" } }.Problems());
    }

    private static long Count(string path)
    {
        using var source = TraceOpener.Open(path);
        long n = 0;
        while (source.MoveNext())
            n++;
        return n;
    }
}
