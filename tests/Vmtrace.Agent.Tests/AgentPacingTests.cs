using Microsoft.Extensions.Time.Testing;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>Paced replay: events read before a quiet stretch are sent before the agent waits it out.</summary>
public class AgentPacingTests
{
    private sealed class ListSink : IRecordSink
    {
        public List<byte[]> Records { get; } = [];

        /// <summary>Set when the first event batch arrives.</summary>
        public ManualResetEventSlim FirstBatch { get; } = new();

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
        {
            lock (Records)
                Records.Add(value);
            if (HostRecord.Read(value).Kind == HostRecordKind.EventBatch)
                FirstBatch.Set();
        }

        public void Flush(TimeSpan timeout)
        {
        }
    }

    /// <summary>10 events, 2,000 s of silence, 10 events: at 1,000× speed the agent waits 2 s (of its clock) in between.</summary>
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
    public async Task Run_PacedQuietStretchLongerThanBatchMaxDelay_EventsBeforeItAreSentFirst()
    {
        // A fake clock: the agent waits for the quiet stretch until the test moves the clock on, which it does only
        // once the first batch went out (so the agent cannot be late, however loaded the machine).
        var clock = new FakeTimeProvider();
        var sink = new ListSink();
        var pipeline = new AgentPipeline(new GapSource(), sink, new AgentOptions
        {
            Speed = 1000,
            BatchMaxDelay = TimeSpan.FromMilliseconds(1),
            HeartbeatInterval = TimeSpan.FromHours(1),
        }, time: clock);
        var run = Task.Run(() => pipeline.Run(CancellationToken.None));
        Assert.True(sink.FirstBatch.Wait(TimeSpan.FromSeconds(60)), "the events before the quiet stretch were not sent before the wait");
        Assert.False(run.IsCompleted, "the paced replay did not wait for the quiet stretch");
        clock.Advance(TimeSpan.FromSeconds(2));
        await run.WaitAsync(TimeSpan.FromSeconds(60)); // times out if the replay did not go on once its clock reached the events after the stretch

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
