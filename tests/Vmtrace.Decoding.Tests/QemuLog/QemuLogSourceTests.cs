using System.Text;
using Vmtrace.Decoding.QemuLog;

namespace Vmtrace.Decoding.Tests.QemuLog;

/// <summary>Hand-made qemu log lines: field kinds, annotations, roles and bad lines.</summary>
public class QemuLogSourceTests
{
    private const string Submit = "27240@1795364913.850427:thread_pool_submit pool 0x5625be44b710 req 0x5625bf2a9e00 opaque 0x7f0c07fff920\n";
    private const string Complete = "27240@1795364913.850835:thread_pool_complete pool 0x5625be44b710 req 0x5625bf2a9e00 opaque 0x7f0c07fff8e0 ret 0\n";
    private const string Runstate = "26602@1795364828.955467:runstate_set current_run_state 6 (prelaunch) new_state 9 (running)\n";
    private const string Shutdown = "26610@1795364853.617523:qemu_system_shutdown_request reason=6\n";

    [Fact]
    public void MoveNext_KeyValuePairs_HexIsUnsignedBase16AndRolesResolve()
    {
        using var log = new TempLog(Submit);
        using var source = QemuLogSource.Open(log.Path);

        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal(KnownEvent.QemuThreadPoolSubmit, e.Known);
        Assert.Equal("qemu", e.Type.System);
        Assert.Equal(["pool", "req", "opaque"], e.Type.Fields.Select(f => f.Name));
        Assert.All(e.Type.Fields, f => Assert.Equal((FieldKind.Unsigned, 16), (f.Kind, f.DisplayBase)));
        Assert.Equal(0x5625bf2a9e00L, e.Get(FieldRole.Req));
        Assert.Equal(0x7f0c07fff920L, e.Get(FieldRole.Opaque));
        Assert.Equal(27240, e.Tid);
        Assert.Equal(1795364913_850427_000L, e.Timestamp);
        Assert.Equal(-1, e.Cpu);
        Assert.False(source.MoveNext());
    }

    [Fact]
    public void MoveNext_KeyEqualsValue_DecimalIsSigned()
    {
        using var log = new TempLog(Shutdown + "1@2.000003:ev ret=-5, name=disk0, big=18446744073709551615\n");
        using var source = QemuLogSource.Open(log.Path);

        Assert.True(source.MoveNext());
        Assert.Equal(6, source.Current.Get(FieldRole.Reason));
        Assert.Equal(FieldKind.Signed, source.Current.Type.Fields[0].Kind);
        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal("2.000003000 [-1] 1 ev: ret=-5, name=\"disk0\", big=18446744073709551615", EventFormatter.Format(e));
        Assert.Equal(FieldKind.Unsigned, e.Type.Fields[2].Kind);
    }

    [Fact]
    public void MoveNext_ParenthesisedAnnotation_BecomesLabelFieldOfPreviousValue()
    {
        using var log = new TempLog(Runstate);
        using var source = QemuLogSource.Open(log.Path);

        Assert.True(source.MoveNext());
        Assert.Equal(
            "1795364828.955467000 [-1] 26602 runstate_set: current_run_state=6, current_run_state_label=\"prelaunch\", new_state=9, new_state_label=\"running\"",
            EventFormatter.Format(source.Current));
    }

    [Fact]
    public void MoveNext_MultiWordAnnotationAndNilPointerAndBareValues_AreKept()
    {
        using var log = new TempLog("5@1.5:ev 7 8 state 3 (not running) ptr (nil)\n");
        using var source = QemuLogSource.Open(log.Path);

        Assert.True(source.MoveNext());
        var e = source.Current;
        // "1.5" has one fraction digit: half a second.
        Assert.Equal("1.500000000 [-1] 5 ev: arg0=7, arg1=8, state=3, state_label=\"not running\", ptr=0x0", EventFormatter.Format(e));
        Assert.Equal(3, e.Get(FieldRole.State));
    }

    [Fact]
    public void MoveNext_SameShapeTwice_SharesOneEventTypeAndNewShapeGetsAnother()
    {
        using var log = new TempLog(Submit + Complete + Submit + "1@1.000001:thread_pool_submit pool (nil) req 0x1 opaque 0x2\n");
        using var source = (QemuLogSource)QemuLogSource.Open(log.Path);

        var rows = QemuLogTestReading.ReadAll(source);

        Assert.Equal(4, rows.Count);
        Assert.Same(rows[0].Type, rows[2].Type);
        Assert.Same(rows[0].Type, rows[3].Type); // (nil) is a hex pointer like the others
        Assert.NotSame(rows[0].Type, rows[1].Type);
        Assert.Equal(2, source.TypeCount);
    }

    [Fact]
    public void MoveNext_GarbageQemuMessageAndTruncatedLastLine_AreErrorsWithLineAndOffsetAndReadingGoesOn()
    {
        const string Garbage = "\u0001\u0002 not a line\n";
        const string Message = "qemu-system-x86_64: terminating on signal 15 from pid 1234\n";
        const string Cut = "27240@1795364913.850835:thread_pool_complete pool 0x5625be4";
        string text = Submit + Garbage + Runstate + Message + Shutdown + Cut;
        using var log = new TempLog(text);
        using var source = QemuLogSource.Open(log.Path);

        var rows = QemuLogTestReading.ReadAll(source);

        Assert.Equal(["thread_pool_submit", "runstate_set", "qemu_system_shutdown_request"], rows.Select(r => r.Name));
        var d = source.Diagnostics;
        Assert.Equal(3, d.ErrorCount);
        Assert.Equal(Garbage.Length + Message.Length + Cut.Length, d.SkippedBytes);
        long garbageOffset = Submit.Length;
        long messageOffset = Submit.Length + Garbage.Length + Runstate.Length;
        long cutOffset = text.Length - Cut.Length;
        Assert.Equal([garbageOffset, messageOffset, cutOffset], d.Errors.Select(x => x.Offset));
        Assert.All(d.Errors, x => Assert.Equal(log.Path, x.File));
        Assert.StartsWith("line 2:", d.Errors[0].Problem, StringComparison.Ordinal);
        Assert.StartsWith("line 4:", d.Errors[1].Problem, StringComparison.Ordinal);
        Assert.StartsWith("line 6:", d.Errors[2].Problem, StringComparison.Ordinal);
        Assert.Contains(log.Path, d.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MoveNext_TimeGoesBackwards_DeliveredInFileOrderAndCountedOutOfOrder()
    {
        using var log = new TempLog("1@10.000005:a x 1\n1@10.000002:b x 2\n1@10.000007:c x 3\n");
        using var source = QemuLogSource.Open(log.Path);

        var rows = QemuLogTestReading.ReadAll(source);

        Assert.Equal(["a", "b", "c"], rows.Select(r => r.Name));
        Assert.Equal(1, source.Diagnostics.OutOfOrderEvents);
        Assert.Equal(0, source.Diagnostics.ErrorCount);
    }

    [Fact]
    public void MoveNext_LineLongerThanLimit_IsSkippedAsOneErrorAndNextLineIsRead()
    {
        string longLine = "1@1.000001:ev " + new string('x', LineReader.MaxLineLength * 2) + "\n";
        using var log = new TempLog(longLine + Shutdown);
        using var source = QemuLogSource.Open(log.Path);

        var rows = QemuLogTestReading.ReadAll(source);

        Assert.Equal(["qemu_system_shutdown_request"], rows.Select(r => r.Name));
        Assert.Equal(1, source.Diagnostics.ErrorCount);
        Assert.Equal(longLine.Length, source.Diagnostics.SkippedBytes);
        Assert.Equal(0, source.Diagnostics.Errors[0].Offset);
    }

    [Fact]
    public void MoveNext_CrLfAndBlankLines_AreReadLikeLf()
    {
        using var log = new TempLog(Shutdown.Replace("\n", "\r\n", StringComparison.Ordinal) + "\n  \n" + Runstate);
        using var source = QemuLogSource.Open(log.Path);

        var rows = QemuLogTestReading.ReadAll(source);

        Assert.Equal(2, rows.Count);
        Assert.EndsWith("reason=6", rows[0].Text, StringComparison.Ordinal);
        Assert.True(source.Diagnostics.IsClean);
    }

    [Fact]
    public void MoveNext_LinesAcrossBufferRefills_AllRead()
    {
        // Enough lines to refill the 1 MiB read buffer several times, so lines straddle its edge.
        var sb = new StringBuilder();
        const int Lines = 40_000;
        for (int i = 0; i < Lines; i++)
            sb.Append(Submit);
        using var log = new TempLog(sb.ToString());
        using var source = QemuLogSource.Open(log.Path);

        var counts = QemuLogTestReading.CountByName(source);

        Assert.Equal(Lines, counts["thread_pool_submit"]);
        Assert.True(source.Diagnostics.IsClean);
        Assert.Equal(1.0, source.Progress);
    }

    [Fact]
    public void LooksLikeQemuLog_MessageBeforeFirstEvent_StillDetected()
    {
        using var log = new TempLog("qemu-system-x86_64: warning: something\n" + Shutdown);
        using var notLog = new TempLog("hello world\n1234 not@an event\n");

        Assert.True(QemuLogSource.LooksLikeQemuLog(log.Path));
        Assert.False(QemuLogSource.LooksLikeQemuLog(notLog.Path));
        Assert.Equal(TraceFormat.QemuLog, TraceOpener.Detect(log.Path));
    }

    [Fact]
    public void Open_EmptyFile_NoEventsNoErrors()
    {
        using var log = new TempLog("");
        using var source = QemuLogSource.Open(log.Path);

        Assert.False(source.MoveNext());
        Assert.True(source.Diagnostics.IsClean);
    }

    [Fact]
    public void MoveNext_RandomBytes_NeverThrowsAndAccountsForEveryByte()
    {
        var random = new Random(20261122);
        var bytes = new byte[300_000];
        random.NextBytes(bytes);
        // Sprinkle newlines and a few valid lines so both paths run.
        for (int i = 0; i < bytes.Length; i += random.Next(1, 200))
            bytes[i] = (byte)'\n';
        var valid = Encoding.ASCII.GetBytes(Shutdown);
        valid.CopyTo(bytes, 1000);
        bytes[999] = (byte)'\n';
        using var log = new TempLog(bytes);
        using var source = QemuLogSource.Open(log.Path);

        long events = 0;
        while (source.MoveNext())
        {
            events++;
            Assert.NotEmpty(EventFormatter.Format(source.Current)); // every delivered view is readable
        }

        Assert.True(events >= 1);
        Assert.True(source.Diagnostics.ErrorCount > 100);
        Assert.True(source.Diagnostics.SkippedBytes < bytes.Length);
        Assert.Equal(1.0, source.Progress);
    }

    [Theory]
    [InlineData("1@1.000001:ev\n", "1.000001000 [-1] 1 ev:")]
    [InlineData("1@1.000001:ev   \t \n", "1.000001000 [-1] 1 ev:")]
    [InlineData("1@1.000001:ev key\n", "1.000001000 [-1] 1 ev: key=\"\"")]
    [InlineData("1@1.000001:ev size: 4096, fd: 3\n", "1.000001000 [-1] 1 ev: size=4096, fd=3")]
    [InlineData("1@1.000001:ev path \"/tmp/x y\"\n", "1.000001000 [-1] 1 ev: path=\"/tmp/x y\"")]
    [InlineData("1@1.000001:ev name=\"a b\", n=2\n", "1.000001000 [-1] 1 ev: name=\"a b\", n=2")]
    [InlineData("1@1.000001:ev s \"unclosed x 1\n", "1.000001000 [-1] 1 ev: s=\"\\\"unclosed x 1\"")]
    [InlineData("1@1.000001:ev v 0xzz w 0x\n", "1.000001000 [-1] 1 ev: v=\"0xzz\", w=\"0x\"")]
    public void MoveNext_UnusualArgumentShapes_ReadWithoutLoss(string line, string expected)
    {
        using var log = new TempLog(line);
        using var source = QemuLogSource.Open(log.Path);

        Assert.True(source.MoveNext());
        Assert.Equal(expected, EventFormatter.Format(source.Current));
        Assert.True(source.Diagnostics.IsClean);
    }

    [Theory]
    [InlineData("1@1.000001:\n")]
    [InlineData("1@1.000001 ev x 1\n")]
    [InlineData("@1.000001:ev x 1\n")]
    [InlineData("99999999999@1.000001:ev x 1\n")]
    [InlineData("1@99999999999.000001:ev x 1\n")]
    [InlineData("1@1.:ev x 1\n")]
    [InlineData("1@1.000001:ev/x 1\n")]
    public void MoveNext_BadPrefix_IsOneErrorAndNoEvent(string line)
    {
        using var log = new TempLog(line);
        using var source = QemuLogSource.Open(log.Path);

        Assert.False(source.MoveNext());
        Assert.Equal(1, source.Diagnostics.ErrorCount);
        Assert.Equal(Encoding.UTF8.GetByteCount(line), source.Diagnostics.SkippedBytes);
    }
}
