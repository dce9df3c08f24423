using Vmtrace.Decoding.TraceCompassXml;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.TraceCompassXml;

public class TraceCompassXmlSourceTests
{
    private static List<(long Ts, int Cpu, string Name, string Line)> ReadAll(EventSource source)
    {
        var list = new List<(long, int, string, string)>();
        while (source.MoveNext())
        {
            var e = source.Current;
            list.Add((e.Timestamp, e.Cpu, e.Type.Name, EventFormatter.Format(e)));
        }
        return list;
    }

    private static string WriteTemp(string xml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"vmtrace-xml-{Guid.NewGuid():N}.xml");
        File.WriteAllText(path, xml);
        return path;
    }

    [CorpusFact]
    public void Open_OneQemuKvmHost_ReadsEveryEventInOrder()
    {
        string path = Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml");
        // Reference: the <event> elements of the file itself, counted by name (GROUND_TRUTH.md A lists 22).
        string text = File.ReadAllText(path);
        int expected = System.Text.RegularExpressions.Regex.Matches(text, "<event ").Count;

        using var source = TraceOpener.Open(path);
        var events = ReadAll(source);

        Assert.Equal(expected, events.Count);
        Assert.Equal(22, events.Count);
        Assert.Equal(5, events.Count(e => e.Name == "sched_switch"));
        Assert.Equal(6, events.Count(e => e.Name == "kvm_entry"));
        Assert.Equal(5, events.Count(e => e.Name == "kvm_exit"));
        Assert.All(events, e => Assert.Equal(0, e.Cpu));
        Assert.Equal(1, events[0].Ts);
        Assert.Equal(355, events[^1].Ts);
        Assert.True(source.Diagnostics.IsClean);
    }

    [CorpusFact]
    public void Open_SchedSwitchStub_ResolvesRolesAndValues()
    {
        using var source = TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml"));
        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal(KnownEvent.SchedSwitch, e.Known);
        Assert.Equal(30, e.Get(FieldRole.PrevTid, -1));
        Assert.Equal(31, e.Get(FieldRole.NextTid, -1));
        Assert.Equal("qemucpu1", System.Text.Encoding.UTF8.GetString(e.GetText(FieldRole.NextComm)));
        Assert.Equal(-1, e.Tid);
    }

    [CorpusFact]
    public void Open_ContainersStub_ReadsStatedumpAndFork()
    {
        using var source = TraceOpener.Open(Corpus.Path("tracecompass-vm-xml-stubs/Containers/withContainers.xml"));
        var events = ReadAll(source);
        Assert.Equal(15, events.Count);
        Assert.Equal(7, events.Count(e => e.Name == "lttng_statedump_process_state"));
        Assert.Equal(2, events.Count(e => e.Name == "sched_process_fork"));
    }

    [Fact]
    public void MoveNext_BadTimestamp_SkipsEventAndRecordsError()
    {
        string path = WriteTemp("""
            <trace>
            <event timestamp="x" name="kvm_entry"><field name="cpu" value="0" type="int"/></event>
            <event timestamp="7" name="kvm_entry"><field name="cpu" value="1" type="int"/><field name="vcpu_id" value="3" type="long"/></event>
            </trace>
            """);
        try
        {
            using var source = TraceCompassXmlSource.Open(path);
            var events = ReadAll(source);
            Assert.Single(events);
            Assert.Equal(7, events[0].Ts);
            Assert.Equal(1, events[0].Cpu);
            Assert.Equal(1, source.Diagnostics.ErrorCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MoveNext_NonIntegerValue_SkipsEventAndRecordsError()
    {
        string path = WriteTemp("""
            <trace><event timestamp="3" name="kvm_exit"><field name="exit_reason" value="abc" type="long"/></event></trace>
            """);
        try
        {
            using var source = TraceCompassXmlSource.Open(path);
            Assert.Empty(ReadAll(source));
            Assert.Equal(1, source.Diagnostics.ErrorCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MoveNext_TruncatedXml_StopsWithErrorAfterGoodEvents()
    {
        string path = WriteTemp("""<trace><event timestamp="1" name="a"><field name="cpu" value="0" type="int"/></event><event timestamp="2" name="b"><fie""");
        try
        {
            using var source = TraceCompassXmlSource.Open(path);
            var events = ReadAll(source);
            Assert.Single(events);
            Assert.Equal(1, source.Diagnostics.ErrorCount);
            Assert.False(source.MoveNext());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
