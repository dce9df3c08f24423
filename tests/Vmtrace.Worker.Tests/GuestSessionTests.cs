using Vmtrace.Agent;
using Vmtrace.TestSupport;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A host replayed with a guest trace (<c>Agent:Guests</c>) through the worker's record processor: the guest threads'
/// points come at the session's end, and a worker restarted from a checkpoint taken anywhere in the session writes the
/// same points as one that never stopped (the fused analysis is in the checkpoint). Records from the real agent
/// pipeline on the real hip24 host+guest recording.
/// </summary>
public class GuestSessionTests
{
    private const string Pair = "hip24-kvm-host-guest-pair/";

    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    private static List<(byte[] Value, bool SessionEnd)> Records()
    {
        var sink = new ListSink();
        var source = new ReplaySource([Corpus.Path(Pair + "host.trace.dat")], "pair",
            guests: [new GuestTrace("Salamander4", Corpus.Path(Pair + "guest-Salamander4.trace.dat"))]);
        // Small batches: the session spans many records, so the cuts land inside it.
        new AgentPipeline(source, sink, new AgentOptions { BatchMaxEvents = 2000 }).Run(CancellationToken.None);
        return sink.Records;
    }

    /// <summary>Processes records [from, to) into <paramref name="state"/>; the points they give.</summary>
    private static List<string> Process(List<(byte[] Value, bool SessionEnd)> records, PartitionState state, int from, int to)
    {
        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var points = new List<string>();
        for (int i = from; i < to; i++)
        {
            var outcome = processor.Process(state, records[i].Value, records[i].SessionEnd, points);
            Assert.True(outcome.Used, $"record {i}: {outcome.Reason}");
        }
        return points;
    }

    [CorpusFact]
    public void Session_RestartedFromACheckpointAnywhere_SamePointsAsStraight()
    {
        var records = Records();
        Assert.Contains(records, r => HasGuestEvents(r.Value));
        var straight = Process(records, new PartitionState(0), 0, records.Count);
        var guestPoints = straight.Where(p => p.StartsWith("vmtrace_guest_thread,", StringComparison.Ordinal)).ToList();
        Assert.True(guestPoints.Count > 10, $"{guestPoints.Count} guest thread points");
        Assert.All(guestPoints, p => Assert.Contains(",guest=Salamander4,", p, StringComparison.Ordinal));

        int n = records.Count;
        foreach (int cut in new[] { 1, 2, n / 5, n / 3, n / 2, n * 4 / 5, n - 2, n - 1 }.Distinct())
        {
            var state = new PartitionState(0);
            var before = Process(records, state, 0, cut);
            var restored = PartitionCheckpoint.Decode(PartitionCheckpoint.Encode(state), 0);
            var after = Process(records, restored, cut, n);
            Assert.Equal(straight, before.Concat(after).ToList());
        }
    }

    [CorpusFact]
    public void Batch_OfAGuestTheInventoryDoesNotList_DeadLettered()
    {
        var records = Records();
        int firstBatch = records.FindIndex(r => HasGuestEvents(r.Value));
        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        var points = new List<string>();
        // The session's inventory lists no guest.
        var inventory = HostRecord.Read(records[0].Value);
        Assert.Equal(HostRecordKind.Inventory, inventory.Kind);
        var withoutGuests = new HostRecordWriter("pair", inventory.SessionId).Inventory(inventory.ReadInventory() with { Guests = [] });
        Assert.True(processor.Process(state, withoutGuests, false, points).Used);

        var outcome = processor.Process(state, records[firstBatch].Value, false, points);

        Assert.False(outcome.Used);
        Assert.Contains("carries events of guest 'Salamander4', which the session's inventory does not list", outcome.Reason, StringComparison.Ordinal);
        Assert.Null(state.Hosts["pair"].Analysis);
    }

    private static bool HasGuestEvents(byte[] value)
    {
        var record = HostRecord.Read(value);
        if (record.Kind != HostRecordKind.EventBatch)
            return false;
        var reader = new EventBatchReader();
        reader.Load(record);
        return reader.GuestNames.Count > 0;
    }
}
