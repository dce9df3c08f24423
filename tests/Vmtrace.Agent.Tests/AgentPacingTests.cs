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

    [Fact]
    public void MustWaitFor_TwiceRecordedSpeed_EventDueAfterHalfItsOffsetOnTheClock()
    {
        var clock = new FakeTimeProvider();
        var pacing = new AgentPacing(new AgentOptions { Speed = 2 }, clock);
        pacing.StartReplay();
        long start = pacing.Now();
        Assert.False(pacing.MustWaitFor(1_000_000_000, out _)); // the first event is due at once
        // 2 s after it in the trace: due 1 s after the start at speed 2.
        Assert.True(pacing.MustWaitFor(3_000_000_000, out long due));
        Assert.Equal(TimeSpan.FromSeconds(1), clock.GetElapsedTime(start, due));
        clock.Advance(TimeSpan.FromMilliseconds(999.5)); // within the 1 ms not worth a wait
        Assert.False(pacing.MustWaitFor(3_000_000_000, out _));
    }

    [Fact]
    public void MustWaitFor_Unpaced_NeverWaits()
    {
        var pacing = new AgentPacing(new AgentOptions(), new FakeTimeProvider());
        pacing.StartReplay();
        Assert.False(pacing.IsPaced);
        Assert.False(pacing.MustWaitFor(0, out _));
        Assert.False(pacing.MustWaitFor(long.MaxValue / 2, out _));
    }

    [Fact]
    public void BatchHeldTooLong_OnceBatchMaxDelayPassedOnTheClock()
    {
        var clock = new FakeTimeProvider();
        var pacing = new AgentPacing(new AgentOptions { BatchMaxDelay = TimeSpan.FromMilliseconds(200) }, clock);
        pacing.BatchStarted();
        clock.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(pacing.BatchHeldTooLong(10, pacing.Now()));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(pacing.BatchHeldTooLong(10, pacing.Now()));
        Assert.False(pacing.BatchHeldTooLong(0, pacing.Now())); // an empty batch is never sent
    }

    [Fact]
    public void Cadence_DueEveryIntervalOfTheClock()
    {
        var clock = new FakeTimeProvider();
        var pacing = new AgentPacing(new AgentOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) }, clock);
        var heartbeats = pacing.Heartbeats(pacing.Now());
        Assert.False(heartbeats.TakeIfDue(pacing.Now()));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(heartbeats.TakeIfDue(pacing.Now()));
        Assert.False(heartbeats.TakeIfDue(pacing.Now())); // the next interval starts when it was taken
        clock.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.True(heartbeats.IsDue(pacing.Now()));
    }
}
