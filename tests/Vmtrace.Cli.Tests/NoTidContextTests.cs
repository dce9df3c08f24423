using System.Globalization;
using System.Text.Json;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// An LTTng kernel trace recorded without the <c>tid</c> context (synctraces/scp_dest: every event's tid is
/// unknown, as <c>vmtrace dump</c> shows with -1): what the analysis cannot attribute is counted and said.
/// </summary>
public sealed class NoTidContextTests
{
    private static string Trace => Corpus.Path("tracecompass-test-traces-ctf/synctraces/scp_dest");

    /// <summary>
    /// The reference, from the decoded events alone (no analysis): events other than sched_switch without a tid,
    /// and block_rq_issue events on a CPU before that CPU's first sched_switch (no thread known to have issued them;
    /// exact here: the trace has one CPU and no lost events, the only other ways a CPU's thread becomes unknown).
    /// </summary>
    private static (long WithoutTid, long IssuesWithoutThread, long Events) Reference()
    {
        using var source = TraceOpener.OpenAll([Trace]);
        var switched = new HashSet<int>();
        long withoutTid = 0, issues = 0, events = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            events++;
            if (e.Known == KnownEvent.SchedSwitch)
            {
                switched.Add(e.Cpu);
                continue;
            }
            if (e.Tid >= 0 || e.Known == KnownEvent.LostEvents)
                continue;
            withoutTid++;
            if (e.Known == KnownEvent.BlockRqIssue && !switched.Contains(e.Cpu))
                issues++;
        }
        return (withoutTid, issues, events);
    }

    [CorpusFact]
    public async Task Analyze_LttngTraceWithoutTidContext_CountsAndNotesWhatItCannotAttribute()
    {
        var (withoutTid, issues, events) = Reference();
        Assert.True(withoutTid > events / 2, "the trace should lack the tid context");

        var json = await CliRun.RunAsync("analyze", Trace, "--no-progress", "--format", "json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        var counters = doc.RootElement.GetProperty("counters");
        Assert.Equal(withoutTid, counters.GetProperty("events_without_tid").GetInt64());
        // Its block requests all come after the CPU's first sched_switch: their thread is known (0 here).
        Assert.Equal(issues, counters.GetProperty("block_issues_without_thread").GetInt64());
        var notes = doc.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.Single(notes);
        // Every format says it: JSON in its notes, the others on stderr.
        Assert.Equal(notes, json.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("vmtrace: note: ", StringComparison.Ordinal)).Select(l => l["vmtrace: note: ".Length..]));

        var table = await CliRun.RunAsync("analyze", Trace, "--no-progress");
        var note = Assert.Single(table.StdoutLines, l => l.StartsWith("note: ", StringComparison.Ordinal));
        Assert.StartsWith("note: " + withoutTid.ToString("N0", CultureInfo.InvariantCulture) + " events carry no thread id", note, StringComparison.Ordinal);
        Assert.Contains("context switches missing from the trace cannot be inferred", note, StringComparison.Ordinal);
    }

    /// <summary>
    /// Block, network and kvm events before any sched_switch, in a trace format without tids (Trace Compass XML,
    /// built here: no corpus trace issues them before its CPU's first switch). Each kind gets its count and note.
    /// </summary>
    [Fact]
    public async Task Analyze_NoTidEventsBeforeAnySwitch_EachUnattributableKindNotedOnce()
    {
        string dir = Directory.CreateTempSubdirectory("vmtrace-notid-").FullName;
        try
        {
            static string Ev(long ts, string name, string fields) =>
                $"<event timestamp=\"{ts}\" name=\"{name}\"><field name=\"cpu\" value=\"0\" type=\"int\" />{fields}</event>\n";
            const string Issue = "<field name=\"dev\" value=\"8\" type=\"long\" /><field name=\"sector\" value=\"{0}\" type=\"long\" /><field name=\"nr_sector\" value=\"8\" type=\"long\" /><field name=\"rwbs\" value=\"1\" type=\"long\" />";
            const string Tap = "<field name=\"name\" value=\"tap0\" type=\"string\" /><field name=\"len\" value=\"100\" type=\"long\" />";
            string xml = "<trace>\n"
                + Ev(10, "block_rq_issue", string.Format(CultureInfo.InvariantCulture, Issue, 100))
                + Ev(20, "block_rq_issue", string.Format(CultureInfo.InvariantCulture, Issue, 200))
                + Ev(30, "net_dev_xmit", Tap)
                + Ev(40, "kvm_exit", "<field name=\"exit_reason\" value=\"12\" type=\"long\" />")
                + Ev(50, "sched_switch", "<field name=\"prev_comm\" value=\"a\" type=\"string\" /><field name=\"prev_tid\" value=\"30\" type=\"long\" /><field name=\"prev_state\" value=\"0\" type=\"long\" /><field name=\"next_comm\" value=\"b\" type=\"string\" /><field name=\"next_tid\" value=\"31\" type=\"long\" />")
                + Ev(60, "block_rq_issue", string.Format(CultureInfo.InvariantCulture, Issue, 300)) // after the switch: thread 31 issued it
                + "</trace>\n";
            string path = Path.Combine(dir, "host.xml");
            File.WriteAllText(path, xml);

            var json = await CliRun.RunAsync("analyze", path, "--no-progress", "--format", "json");
            using var doc = JsonDocument.Parse(json.Stdout);
            var c = doc.RootElement.GetProperty("counters");
            Assert.Equal((5L, 2L, 1L, 1L), (c.GetProperty("events_without_tid").GetInt64(), c.GetProperty("block_issues_without_thread").GetInt64(),
                c.GetProperty("net_events_without_thread").GetInt64(), c.GetProperty("kvm_events_without_thread").GetInt64()));
            var notes = doc.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
            Assert.Equal(4, notes.Count);
            Assert.StartsWith("5 events carry no thread id", notes[0], StringComparison.Ordinal);
            Assert.StartsWith("1 kvm_entry/kvm_exit events with no thread known", notes[1], StringComparison.Ordinal);
            Assert.StartsWith("2 block requests issued with no thread known", notes[2], StringComparison.Ordinal);
            Assert.StartsWith("1 packets on a tap device of no known VM", notes[3], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [CorpusFact]
    public async Task Analyze_TraceWithTids_NoNote()
    {
        var table = await CliRun.RunAsync("analyze", Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms"), "--no-progress");
        Assert.Equal(0, table.ExitCode);
        Assert.DoesNotContain(table.StdoutLines, l => l.StartsWith("note: ", StringComparison.Ordinal));
    }
}
