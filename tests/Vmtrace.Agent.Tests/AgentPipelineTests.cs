using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>The agent's record stream for a real replay: inventory first, every event once, heartbeats never ahead of what was sent, a session end last.</summary>
public class AgentPipelineTests
{
    private sealed class ListSink : IRecordSink
    {
        public List<(string Key, byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((key, value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    [Fact]
    public void Run_SampleTrace_InventoryFirstEventsOnceHeartbeatsBehindSessionEndLast()
    {
        string trace = Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz");
        var sink = new ListSink();
        var source = new ReplaySource([trace]);
        var pipeline = new AgentPipeline(source, sink, new AgentOptions { BatchMaxEvents = 4096, HeartbeatInterval = TimeSpan.FromTicks(1) });
        pipeline.Run(CancellationToken.None);

        long expectedEvents = 0, maxTs = long.MinValue;
        using (var source2 = TraceOpener.OpenAll([trace]))
        {
            while (source2.MoveNext())
            {
                expectedEvents++;
                maxTs = Math.Max(maxTs, source2.Current.Timestamp);
            }
        }
        Assert.All(sink.Records, r => Assert.Equal("tcg-3vms", r.Key));
        var first = HostRecord.Read(sink.Records[0].Value);
        Assert.Equal(HostRecordKind.Inventory, first.Kind);
        Assert.Equal(3, first.ReadInventory().Vms.Count); // vmmap.json beside the sample: web, db, edge

        var reader = new EventBatchReader();
        long events = 0, sentMax = long.MinValue, heartbeats = 0;
        ulong sequence = 0;
        foreach (var (_, value, sessionEnd) in sink.Records)
        {
            var record = HostRecord.Read(value);
            Assert.Equal(sequence++, record.Sequence);
            if (record.Kind == HostRecordKind.EventBatch)
            {
                reader.Load(record);
                while (reader.MoveNext())
                {
                    events++;
                    sentMax = Math.Max(sentMax, reader.Current.Timestamp);
                }
            }
            else if (record.Kind == HostRecordKind.Heartbeat)
            {
                heartbeats++;
                Assert.True(record.ReadWatermark() <= sentMax, "a heartbeat's watermark is never ahead of the events sent");
            }
            Assert.Equal(sessionEnd, ReferenceEquals(value, sink.Records[^1].Value));
        }
        Assert.Equal(expectedEvents, events);
        Assert.Equal(expectedEvents, pipeline.Counters.EventsSent);
        Assert.True(heartbeats > 1);
        var last = HostRecord.Read(sink.Records[^1].Value);
        Assert.Equal(HostRecordKind.Heartbeat, last.Kind);
        Assert.Equal(maxTs, last.ReadWatermark());

        // The final agent health record, just before the session end, carries the replay's totals.
        var health = HostRecord.Read(sink.Records[^2].Value);
        Assert.Equal(HostRecordKind.AgentHealth, health.Kind);
        var counters = health.ReadAgentHealth();
        Assert.Equal(expectedEvents, counters.EventsRead);
        Assert.Equal(expectedEvents, counters.EventsSent);
        Assert.Equal(sink.Records.Count(r => HostRecord.Read(r.Value).Kind == HostRecordKind.EventBatch), counters.Batches);
    }

    [Fact]
    public void AgentOptions_NoInputsAndNegativeSpeed_ProblemsNameTheSettings()
    {
        var problems = new AgentOptions { Speed = -1, Inputs = [] }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith("Agent:Inputs is empty", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Agent:Speed", StringComparison.Ordinal));
    }
}
