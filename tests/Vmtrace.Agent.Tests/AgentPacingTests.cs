using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>Paced replay: events read before a quiet stretch are sent before the agent waits it out.</summary>
public class AgentPacingTests
{
    private sealed class ListSink : IRecordSink
    {
        public List<byte[]> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add(value);

        public void Flush(TimeSpan timeout)
        {
        }
    }

    /// <summary>10 events, 2,000 s of silence, 10 events: at 1,000× speed the agent waits 2 s in between.</summary>
    private const long AfterGap = 2_000_000_000_000L;

    private sealed class GapSource : IAgentSource
    {
        public string HostId => "gap-host";
        public string Description => "gap";
        public bool IsLive => false;
        public EventSource Open() => new Events();
        public WireInventory Inventory(EventSource opened) => new([], []);

        private sealed class Events : EventSource
        {
            private static readonly EventType Idle = new("cpu_idle", []);
            private int _i = -1;

            public override string Description => "gap";
            public override bool MoveNext() => ++_i < 20;
            public override TraceEvent Current => new(Timestamp(_i), 0, 1, Idle, []);

            private static long Timestamp(int i) => i < 10 ? 1_000 + i : AfterGap + i;
        }
    }

    [Fact]
    public void Run_PacedQuietStretchLongerThanBatchMaxDelay_EventsBeforeItAreSentFirst()
    {
        // Unpaced first, so that JIT compilation on a loaded machine cannot put the paced run 2 s behind its schedule
        // (an agent already late does not wait, and then has no reason to send early).
        new AgentPipeline(new GapSource(), new ListSink(), new AgentOptions()).Run(CancellationToken.None);
        var sink = new ListSink();
        var pipeline = new AgentPipeline(new GapSource(), sink, new AgentOptions
        {
            Speed = 1000,
            BatchMaxDelay = TimeSpan.FromMilliseconds(1),
            HeartbeatInterval = TimeSpan.FromHours(1),
        });
        pipeline.Run(CancellationToken.None);

        var batches = new List<long[]>();
        var reader = new EventBatchReader();
        foreach (var value in sink.Records)
        {
            var record = HostRecord.Read(value);
            if (record.Kind != HostRecordKind.EventBatch)
                continue;
            reader.Load(record);
            var times = new List<long>();
            while (reader.MoveNext())
                times.Add(reader.Current.Timestamp);
            batches.Add([.. times]);
        }
        Assert.Equal(2, batches.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 1_000L + i), batches[0]);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => AfterGap + i), batches[1]);
    }

    [Fact]
    public void AgentOptions_ZeroBatchMaxDelay_IsAProblemNamingTheSetting()
    {
        var problems = new AgentOptions { Inputs = ["/"], BatchMaxDelay = TimeSpan.Zero }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith("Agent:BatchMaxDelay", StringComparison.Ordinal));
    }
}
