using Vmtrace.Agent.Live.Recording;

namespace Vmtrace.Agent.Live.Tests.Recording;

/// <summary>The parts of <c>vmtrace record</c> that need no root: qemu log copies, trace-cmd's arguments, option checks.</summary>
public sealed class RecordingPartsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-recparts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CopyAppended_StartMidLineAndUnfinishedLastLine_WholeLinesInBetween()
    {
        string source = Path.Combine(_dir, "q.log");
        const string before = "1@1.000000:a x=1\n2@1.5000";
        File.WriteAllText(source, before + "00:b x=2\n3@2.000000:c x=3\n4@2.5");
        string copy = Path.Combine(_dir, "copy.log");
        long bytes = QemuLogCopy.CopyAppended(source, before.Length, copy);
        Assert.Equal("3@2.000000:c x=3\n", File.ReadAllText(copy));
        Assert.Equal(bytes, new FileInfo(copy).Length);
    }

    [Fact]
    public void CopyAppended_StartAtLineStart_KeepsThatLine()
    {
        string source = Path.Combine(_dir, "q.log");
        File.WriteAllText(source, "1@1.000000:a\n2@2.000000:b\n");
        string copy = Path.Combine(_dir, "copy.log");
        QemuLogCopy.CopyAppended(source, "1@1.000000:a\n".Length, copy);
        Assert.Equal("2@2.000000:b\n", File.ReadAllText(copy));
    }

    [Fact]
    public void CopyAppended_LogShorterThanAtStart_CopiedWhole()
    {
        string source = Path.Combine(_dir, "q.log");
        File.WriteAllText(source, "1@1.000000:a\n");
        string copy = Path.Combine(_dir, "copy.log");
        QemuLogCopy.CopyAppended(source, 1000, copy);
        Assert.Equal("1@1.000000:a\n", File.ReadAllText(copy));
    }

    [Fact]
    public void FileName_UnsafeCharactersAndDuplicates()
    {
        var taken = new HashSet<string>();
        Assert.Equal("qemu-web_1.log", QemuLogCopy.FileName("web/1", 10, taken));
        Assert.Equal("qemu-web_1-11.log", QemuLogCopy.FileName("web 1", 11, taken));
    }

    [Fact]
    public void RecordArguments_InstanceClockOffsetAndEvents()
    {
        var args = TraceCmd.RecordArguments("vmtrace-record-9", "tai", -37_000_000_000, 4096, ["sched:sched_switch", "kvm:kvm_exit"], "/tmp/r/trace.dat");
        string line = string.Join(' ', args);
        Assert.StartsWith("record -d --no-filter --file-version 6 --ts-offset -37000000000 -B vmtrace-record-9 -C tai -b 4096 ", line, StringComparison.Ordinal);
        Assert.EndsWith("-e sched:sched_switch -e kvm:kvm_exit -o /tmp/r/trace.dat", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", null, 8192, "auto", "output directory")]
    [InlineData("/tmp/x", -1, 8192, "auto", "duration")]
    [InlineData("/tmp/x", null, 2, "auto", "buffer size")]
    [InlineData("/tmp/x", null, 8192, "perf", "writer 'perf'")]
    public void Validate_BadOptions_SayWhich(string dir, int? seconds, int bufferKb, string writer, string expected)
    {
        var o = new RecordOptions { OutputDirectory = dir, Duration = seconds is { } s ? TimeSpan.FromSeconds(s) : null, BufferSizeKb = bufferKb, Writer = writer };
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EventWithoutSystem_Refused()
    {
        var o = new RecordOptions { OutputDirectory = "/tmp/x", Events = ["sched_switch"] };
        Assert.Contains("'sched_switch'", Assert.Throws<ArgumentException>(o.Validate).Message, StringComparison.Ordinal);
    }
}
