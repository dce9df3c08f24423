using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.InfluxDb;
using Vmtrace.TestSupport;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Tests;

/// <summary>
/// Agent:Replay: the sample recording (kernel trace and the three qemu logs) replayed shifted to now, by a fixed
/// shift, and looped. Every event moves by the same whole seconds (Align), heartbeats with them, and the worker's
/// analysis of the shifted stream equals that of the recorded one apart from the time.
/// </summary>
public class ReplayTimingTests
{
    private const long Second = 1_000_000_000;
    private static readonly string Sample = Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms");

    private sealed class ListSink(int cancelAfterSessions = 0, CancellationTokenSource? cancel = null) : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
        {
            Records.Add((value, sessionEnd));
            if (cancel is not null && Records.Count(r => r.SessionEnd) >= cancelAfterSessions)
                cancel.Cancel();
        }

        public void Flush(TimeSpan timeout)
        {
        }
    }

    private static List<long> RecordedTimes()
    {
        var times = new List<long>();
        using var source = TraceOpener.OpenAll([Sample]);
        while (source.MoveNext())
            times.Add(source.Current.Timestamp);
        return times;
    }

    /// <summary>The events of the records of each session, in order, and each session's heartbeat watermarks.</summary>
    private static List<(List<long> Times, List<long> Watermarks)> Sessions(ListSink sink)
    {
        var sessions = new List<(List<long>, List<long>)>();
        var ids = new List<string>();
        var reader = new EventBatchReader();
        foreach (var (value, _) in sink.Records)
        {
            var record = HostRecord.Read(value);
            if (!ids.Contains(record.SessionId))
            {
                ids.Add(record.SessionId);
                sessions.Add(([], []));
            }
            var (times, watermarks) = sessions[ids.IndexOf(record.SessionId)];
            if (record.Kind == HostRecordKind.EventBatch)
            {
                reader.Load(record);
                while (reader.MoveNext())
                    times.Add(reader.Current.Timestamp);
            }
            else if (record.Kind == HostRecordKind.Heartbeat)
                watermarks.Add(record.ReadWatermark());
        }
        return sessions;
    }

    private static long NowNs() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    [Fact]
    public void ShiftToNow_SampleRecording_EveryEventAndHeartbeatMovesByTheSameWholeSeconds_FirstInTheSecondBeforeTheStart()
    {
        var recorded = RecordedTimes();
        var sink = new ListSink();
        var pipeline = new AgentPipeline(new ReplaySource([Sample]), sink,
            new AgentOptions { HeartbeatInterval = TimeSpan.FromTicks(1), BatchMaxEvents = 4096, Replay = { ShiftToNow = true } });
        long before = NowNs();
        pipeline.Run(CancellationToken.None);
        long after = NowNs();

        var (times, watermarks) = Assert.Single(Sessions(sink));
        long shift = times[0] - recorded[0];
        Assert.Equal(shift, pipeline.LastShiftNs);
        Assert.Equal(0, shift % Second);
        Assert.InRange(times[0], before - Second, after);
        Assert.Equal(recorded.Count, times.Count);
        Assert.Equal(recorded.Select(t => t + shift), times);
        Assert.True(watermarks.Count > 1);
        Assert.All(watermarks, w => Assert.Contains(w - shift, recorded)); // heartbeats carry shifted event times
        Assert.Equal(recorded.Max() + shift, watermarks[^1]);
    }

    [Fact]
    public void ShiftToNow_SampleRecording_AnalysisOfTheShiftedStreamEqualsTheRecordedOnesApartFromTime()
    {
        var sink = new ListSink();
        var pipeline = new AgentPipeline(new ReplaySource([Sample]), sink, new AgentOptions { Replay = { ShiftToNow = true } });
        pipeline.Run(CancellationToken.None);
        long shift = pipeline.LastShiftNs;
        Assert.NotEqual(0, shift);

        var recorded = Analyze(Recorded(), 0);
        var shifted = Analyze(FromRecords(sink), shift);
        Assert.True(recorded.Count > 100, $"{recorded.Count} points"); // three VMs over ~40 one-second windows
        Assert.Equal(recorded, shifted);
    }

    [Fact]
    public void Shift_MinusSevenDays_EveryEventExactlySevenDaysEarlier()
    {
        var recorded = RecordedTimes();
        var sink = new ListSink();
        new AgentPipeline(new ReplaySource([Sample]), sink, new AgentOptions { Replay = { Shift = TimeSpan.FromDays(-7) } }).Run(CancellationToken.None);
        var (times, watermarks) = Assert.Single(Sessions(sink));
        long week = TimeSpan.FromDays(7).Ticks * 100;
        Assert.Equal(recorded.Select(t => t - week), times);
        Assert.Equal(recorded.Max() - week, watermarks[^1]);
    }

    [Fact]
    public void Loop_ShiftToNow_EachPassANewSessionStartingAfterThePreviousOneEnded()
    {
        var recorded = RecordedTimes();
        using var cancel = new CancellationTokenSource();
        var sink = new ListSink(3, cancel);
        // Paced far faster than recorded: the loop needs a pace, the test does not need to wait.
        var options = new AgentOptions { Speed = 1e6, Replay = { ShiftToNow = true, Loop = true } };
        Assert.DoesNotContain(options.Problems(), p => p.StartsWith("Agent:Replay", StringComparison.Ordinal));
        new AgentPipeline(new ReplaySource([Sample]), sink, options).Run(cancel.Token);

        var sessions = Sessions(sink);
        Assert.Equal(3, sessions.Count);
        for (int i = 0; i < sessions.Count; i++)
        {
            long shift = sessions[i].Times[0] - recorded[0];
            Assert.Equal(0, shift % Second);
            Assert.Equal(recorded.Select(t => t + shift), sessions[i].Times);
            if (i > 0)
                Assert.True(sessions[i].Times[0] > sessions[i - 1].Times[^1], $"pass {i} starts before pass {i - 1} ended");
        }
    }

    [Fact]
    public void ShiftFor_TenSecondAlign_WholeUnitsLandingWithinOneUnitBeforeNowOrJustAfterThePreviousPass()
    {
        const long unit = 10 * Second;
        var timing = new ReplayTimingOptions { ShiftToNow = true, Align = TimeSpan.FromSeconds(10) };
        long first = 1_234_567_891_234, now = 1_795_000_000_123_456_789;
        long shift = timing.ShiftFor(first, now, long.MinValue);
        Assert.Equal(0, shift % unit);
        Assert.InRange(first + shift, now - unit + 1, now);
        long previousEnd = now + 95 * Second; // a previous pass that ran ahead of the clock
        long after = timing.ShiftFor(first, now, previousEnd);
        Assert.Equal(0, after % unit);
        Assert.InRange(first + after, previousEnd + 1, previousEnd + unit);
        Assert.Equal(shift - 7 * 86_400 * Second, new ReplayTimingOptions { ShiftToNow = true, Align = TimeSpan.FromSeconds(10), Shift = TimeSpan.FromDays(-7) }.ShiftFor(first, now, long.MinValue));
    }

    [Fact]
    public void ReplayOptions_ShiftOffAlignLoopWithoutShiftOrPace_ProblemsNameTheSettings()
    {
        var part = new AgentOptions { Inputs = [Sample], Replay = { Shift = TimeSpan.FromSeconds(90), Align = TimeSpan.FromMinutes(1) } }.Problems().ToList();
        Assert.Contains(part, p => p.StartsWith("Agent:Replay:Shift must be a whole multiple of Agent:Replay:Align", StringComparison.Ordinal));
        Assert.Contains(new AgentOptions { Inputs = [Sample], Replay = { Align = TimeSpan.Zero } }.Problems(), p => p.StartsWith("Agent:Replay:Align must be positive", StringComparison.Ordinal));
        var loop = new AgentOptions { Inputs = [Sample], Replay = { Loop = true } }.Problems().ToList();
        Assert.Contains(loop, p => p.StartsWith("Agent:Replay:Loop needs Agent:Replay:ShiftToNow", StringComparison.Ordinal));
        Assert.Contains(loop, p => p.StartsWith("Agent:Replay:Loop needs a paced Agent:Speed", StringComparison.Ordinal));
        Assert.Empty(new AgentOptions { Inputs = [Sample], Speed = 1, Replay = { ShiftToNow = true, Loop = true, Shift = TimeSpan.FromDays(-1) } }.Problems());
    }

    private static IEnumerable<EventSource> Recorded()
    {
        yield return TraceOpener.OpenAll([Sample]);
    }

    /// <summary>The shifted events as the worker reads them: batch records decoded in order.</summary>
    private static IEnumerable<EventSource> FromRecords(ListSink sink)
    {
        var reader = new EventBatchReader();
        foreach (var (value, _) in sink.Records)
        {
            var record = HostRecord.Read(value);
            if (record.Kind != HostRecordKind.EventBatch)
                continue;
            reader.Load(record);
            yield return reader;
        }
    }

    /// <summary>Line protocol of every window (the worker's points), timestamps moved back by <paramref name="shift"/>.</summary>
    private static List<string> Analyze(IEnumerable<EventSource> sources, long shift)
    {
        var vms = VmMapJson.Parse(File.ReadAllText(Path.Combine(Sample, "vmmap.json")));
        HostAnalysis? analysis = null;
        long last = long.MinValue;
        foreach (var source in sources)
        {
            while (source.MoveNext())
            {
                var e = source.Current;
                if (analysis is null)
                {
                    analysis = new HostAnalysis(new AnalysisOptions { CpuCount = source.CpuCount });
                    foreach (var vm in vms)
                        analysis.AddInventory(vm);
                }
                analysis.OnEvent(e);
                last = Math.Max(last, e.Timestamp);
            }
            if (source is not EventBatchReader)
                source.Dispose();
        }
        Assert.NotNull(analysis);
        analysis.Flush(last);
        return analysis.TakeClosedWindows()
            .SelectMany(w => MetricsLineProtocol.Format(w, "sample").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(line =>
            {
                int space = line.LastIndexOf(' ');
                return line[..space] + " " + (long.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture) - shift);
            })
            .ToList();
    }
}
