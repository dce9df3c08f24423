using System.Diagnostics;
using System.Text;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Decoding;

namespace Vmtrace.Agent.Live.Tests.Tracefs;

/// <summary>The tracefs source on this machine: its own instance, events in order, markers, losses, cleanup.</summary>
public sealed class TracefsEventSourceTests
{
    private static TracefsOptions Options(string name, int bufferKb = 1024) => new()
    {
        InstanceName = name,
        BufferSizeKb = bufferKb,
        Events = ["sched:sched_switch", "sched:sched_wakeup", "sched:sched_waking", "sched:sched_process_fork",
            "sched:sched_process_exec", "sched:sched_process_exit", "kvm:kvm_entry", "kvm:no_such_event"],
    };

    private static void Spawn(int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            p.WaitForExit();
        }
    }

    [LiveHostFact]
    public void Start_BusyHost_DeliversOrderedEventsAndMarkersThenRemovesInstance()
    {
        string name = "vmtrace-test-" + Environment.ProcessId;
        string path;
        var seen = new HashSet<string>();
        int markers = 0;
        long last = long.MinValue, outOfOrder = 0, events = 0;
        long mark1, mark2;
        long markerTs1 = 0, markerTs2 = 0;
        using (var source = TracefsEventSource.Start(Options(name)))
        {
            path = source.Instance.InstancePath;
            Assert.True(Directory.Exists(path));
            Assert.Contains("kvm:no_such_event", source.Instance.MissingEvents);
            mark1 = source.Mark("vmtrace_test first");
            Spawn(5);
            mark2 = source.Mark("vmtrace_test second");
            var stopAt = Stopwatch.StartNew();
            while (true)
            {
                var r = source.TryMoveNext(TimeSpan.FromMilliseconds(50));
                if (r == LiveReadResult.End)
                    break;
                if (stopAt.Elapsed > TimeSpan.FromSeconds(1))
                    source.RequestStop();
                if (r != LiveReadResult.Event)
                    continue;
                var e = source.Current;
                events++;
                if (e.Timestamp < last)
                    outOfOrder++;
                last = e.Timestamp;
                seen.Add(e.Type.Name);
                if (e.Type.Name == "print")
                {
                    string text = Encoding.UTF8.GetString(e.GetBytes(e.Type.IndexOf("buf")));
                    if (text.StartsWith("vmtrace_test first", StringComparison.Ordinal))
                        markerTs1 = e.Timestamp;
                    if (text.StartsWith("vmtrace_test second", StringComparison.Ordinal))
                        markerTs2 = e.Timestamp;
                    markers++;
                }
            }
            Assert.True(source.Diagnostics.IsClean, $"lost {source.Diagnostics.LostEvents}, errors {source.Diagnostics.ErrorCount}");
        }
        Assert.False(Directory.Exists(path), $"{path} left behind");
        Assert.False(File.Exists($"/run/vmtrace-tracefs-{name}.lock"), "lock file left behind");
        Assert.Equal(0, outOfOrder);
        Assert.Equal(2, markers);
        Assert.Contains("sched_switch", seen);
        Assert.Contains("sched_process_exec", seen);
        Assert.Contains("sched_process_fork", seen);
        // Marker stamps are realtime: never before the realtime read just before each write, and soon after
        // it (200 ms allows for a busy build machine preempting the writer; a wrong clock offset is seconds off).
        Assert.InRange(markerTs1 - mark1, 0, 200_000_000);
        Assert.InRange(markerTs2 - mark2, 0, 200_000_000);
        Assert.InRange(Math.Abs(markerTs1 / 1_000_000 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), 0, 60_000);
        Assert.True(events > 20, $"only {events} events");
    }

    [LiveHostFact]
    public void Start_StaleInstanceOfCrashedRun_RemovesItFirst()
    {
        string name = "vmtrace-test-stale-" + Environment.ProcessId;
        string stale = Path.Combine(TracefsMount.Locate(""), "instances", name);
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "events", "sched", "sched_switch", "enable"), "1");
        using (var source = TracefsEventSource.Start(Options(name)))
        {
            Assert.True(source.Instance.RemovedStale);
            source.RequestStop();
            while (source.MoveNext())
            {
            }
        }
        Assert.False(Directory.Exists(stale));
    }

    [LiveHostFact]
    public void Start_SameInstanceTwice_SecondFailsNamingTheLock()
    {
        string name = "vmtrace-test-twice-" + Environment.ProcessId;
        using var first = TracefsEventSource.Start(Options(name));
        var ex = Assert.Throws<TracefsException>(() => TracefsEventSource.Start(Options(name)));
        Assert.Contains("another vmtrace agent owns", ex.Message);
        Assert.Contains(name, ex.Message);
    }

    [LiveHostFact]
    public void TryMoveNext_ReaderFallsBehindSmallBuffer_CountsLostEvents()
    {
        string name = "vmtrace-test-loss-" + Environment.ProcessId;
        var options = Options(name, bufferKb: 8);
        options.Events = ["sched:sched_switch", "sched:sched_wakeup", "sched:sched_waking", "sched:sched_process_fork",
            "sched:sched_process_exec", "sched:sched_process_exit", "sched:sched_process_free", "task:task_newtask"];
        using var source = TracefsEventSource.Start(options);
        // Nobody reads while 8 KiB per CPU fill many times over.
        Spawn(200);
        for (int i = 0; i < 2000; i++)
            source.Mark("vmtrace_test filler line to overflow the small buffer " + i);
        var stats = source.ReadKernelStats();
        Assert.True(stats.Lost > 0, "the kernel says nothing was overwritten: the test did not overflow the buffer");
        source.RequestStop();
        long lostEvents = 0;
        while (source.MoveNext())
        {
            if (source.Current.Known == KnownEvent.LostEvents)
                lostEvents++;
        }
        Assert.True(lostEvents > 0, "no vmtrace_lost_events event delivered");
        Assert.True(source.Diagnostics.LossReports > 0);
        // Full pages have no room for the missed count: the kernel's counters fill in the number at the end.
        Assert.True(source.Diagnostics.LostEvents >= stats.Lost, $"counted {source.Diagnostics.LostEvents}, kernel said {stats.Lost} before the drain");
        Assert.Equal(0, source.Diagnostics.ErrorCount);
    }

    [Fact]
    public void Validate_InstanceNameWithSlash_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TracefsOptions { InstanceName = "a/b" }.Validate());
        Assert.Contains("a/b", ex.Message);
    }

    [Fact]
    public void Parse_UnsupportedClock_NamesIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => TraceClockChoice.Parse("x86-tsc"));
        Assert.Contains("x86-tsc", ex.Message);
    }
}
