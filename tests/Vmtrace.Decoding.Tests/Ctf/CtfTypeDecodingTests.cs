using System.Text;
using Vmtrace.Decoding.Ctf;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>Every CTF type, in both byte orders, through traces the tests write themselves.</summary>
public class CtfTypeDecodingTests
{
    private static string TypesEvent(bool bigEndian) => $$"""
        event {
            name = "types";
            id = 1;
            stream_id = 0;
            fields := struct {
                integer { size = 3; align = 1; signed = false; } _small;
                integer { size = 13; align = 1; signed = true; } _odd;
                integer { size = 64; align = 8; signed = true; } _big_negative;
                integer { size = 33; align = 1; signed = true; } _wide_negative;
                integer { size = 16; align = 16; signed = false; base = 16; } _aligned16;
                integer { size = 32; align = 8; signed = false; byte_order = {{(bigEndian ? "le" : "network")}}; } _other_order;
                enum : uint8_t { ZERO, ONE, RANGE = 10 ... 20, NEXT } _state;
                floating_point { exp_dig = 8; mant_dig = 24; align = 32; } _f32;
                floating_point { exp_dig = 11; mant_dig = 53; align = 64; } _f64;
                string _name;
                struct { uint16_t _x; struct { uint8_t _y; } _inner; } _nested;
                enum : uint8_t { a_int, b_text } _kind;
                variant <_kind> { uint32_t a_int; string b_text; } _choice;
                uint16_t _arr[3];
                integer { size = 8; align = 8; signed = false; encoding = UTF8; } _comm[8];
                uint8_t __len;
                int32_t _seq[__len];
                integer { size = 8; align = 8; signed = false; encoding = ASCII; } _tseq[__len];
            };
        };
        """;

    private static void WriteTypesEvent(TestCtfTrace t, CtfBitWriter w, ulong timestamp, int kind)
    {
        bool be = t.BigEndian;
        t.Compact(w, 1, timestamp);
        w.Align(64); // the payload structure aligns to its largest member (the double)
        w.Int(5, 3, be);
        w.Int(-1234, 13, be);
        w.Align(8).Int(long.MinValue + 7, 64, be);
        w.Int(-4_000_000_000L, 33, be);
        w.Align(16).Int(0xBEEF, 16, be);
        w.Align(8).Int(0x01020304, 32, !be);
        w.Int(21, 8, be);
        w.Align(32).Float(1.5f, be);
        w.Align(64).Double(-2.25, be);
        w.String("hello");
        w.Int(300, 16, be).Int(7, 8, be);
        w.Int((ulong)kind, 8, be);
        if (kind == 0)
            w.Int(123456, 32, be);
        else
            w.String("option b");
        w.Int(1, 16, be).Int(2, 16, be).Int(65535, 16, be);
        w.Text("abc", 8);
        w.Int(2, 8, be);
        w.Int(-5, 32, be).Int(6, 32, be);
        w.Text("xy", 2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_EveryType_DecodesValuesAndFlattenedNames(bool bigEndian)
    {
        using var t = new TestCtfTrace(bigEndian);
        t.WriteMetadata(TestCtfTrace.Metadata(bigEndian, TypesEvent(bigEndian)));
        t.WriteStream("chan_0", t.Packet(1000, 2000, w =>
        {
            WriteTypesEvent(t, w, 1100, kind: 0);
            WriteTypesEvent(t, w, 1200, kind: 1);
        }));

        using var source = CtfTraceSource.Open(t.Directory);
        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal(
            ["small", "odd", "big_negative", "wide_negative", "aligned16", "other_order", "state", "f32", "f64", "name", "nested.x",
             "nested.inner.y", "kind", "choice.a_int", "choice.b_text", "arr", "comm", "_len", "seq", "tseq"],
            e.Type.Fields.Select(f => f.Name));
        Assert.Equal(1100, e.Timestamp);
        Assert.Equal(5, Get(e, "small"));
        Assert.Equal(-1234, Get(e, "odd"));
        Assert.Equal(long.MinValue + 7, Get(e, "big_negative"));
        Assert.Equal(-4_000_000_000L, Get(e, "wide_negative"));
        Assert.Equal(0xBEEF, Get(e, "aligned16"));
        Assert.Equal(16, e.Type.Fields[e.Type.IndexOf("aligned16")].DisplayBase);
        Assert.Equal(0x01020304, Get(e, "other_order"));
        Assert.Equal(21, Get(e, "state"));
        var state = e.Type.Fields[e.Type.IndexOf("state")];
        Assert.Equal(FieldKind.Unsigned, state.Kind);
        Assert.Equal([new EnumMapping("ZERO", 0, 0), new EnumMapping("ONE", 1, 1), new EnumMapping("RANGE", 10, 20), new EnumMapping("NEXT", 21, 21)],
            state.EnumMappings!);
        Assert.Equal(1.5, e.GetDouble(e.Type.IndexOf("f32")));
        Assert.Equal(-2.25, e.GetDouble(e.Type.IndexOf("f64")));
        Assert.Equal("hello", Text(e, "name"));
        Assert.Equal(300, Get(e, "nested.x"));
        Assert.Equal(7, Get(e, "nested.inner.y"));
        Assert.True(e.IsPresent(e.Type.IndexOf("choice.a_int")));
        Assert.False(e.IsPresent(e.Type.IndexOf("choice.b_text")));
        Assert.True(e.Type.Fields[e.Type.IndexOf("choice.b_text")].Optional);
        Assert.Equal(123456, Get(e, "choice.a_int"));
        Assert.Equal([1L, 2L, 65535L], e.GetElements(e.Type.IndexOf("arr")).ToArray());
        Assert.Equal(FieldKind.IntArray, e.Type.Fields[e.Type.IndexOf("arr")].Kind);
        Assert.Equal("abc", Text(e, "comm"));
        Assert.Equal(FieldKind.String, e.Type.Fields[e.Type.IndexOf("comm")].Kind);
        Assert.Equal([-5L, 6L], e.GetElements(e.Type.IndexOf("seq")).ToArray());
        Assert.Equal("xy", Text(e, "tseq"));

        Assert.True(source.MoveNext());
        e = source.Current;
        Assert.Equal(1200, e.Timestamp);
        Assert.False(e.IsPresent(e.Type.IndexOf("choice.a_int")));
        Assert.Equal("option b", Text(e, "choice.b_text"));
        Assert.Equal([1L, 2L, 65535L], e.GetElements(e.Type.IndexOf("arr")).ToArray());
        Assert.Equal("xy", Text(e, "tseq"));

        Assert.False(source.MoveNext());
        Assert.True(source.Diagnostics.IsClean);
    }

    [Fact]
    public void Read_StreamEventContextTid_BecomesEventTidAndContextField()
    {
        using var t = new TestCtfTrace();
        t.WriteMetadata(TestCtfTrace.Metadata(false, """
            event { name = "sched_waking"; id = 2; stream_id = 0; fields := struct { int32_t _tid; }; };
            """, streamEventContext: "int32_t _tid; string _procname;"));
        t.WriteStream("chan_0", t.Packet(0, 10, w =>
        {
            t.Compact(w, 2, 5);
            w.Int(4242, 32).String("qemu-system-x86").Int(77, 32);
        }, cpu: 3));

        using var source = CtfTraceSource.Open(t.Directory);
        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal(4242, e.Tid);
        Assert.Equal(3, e.Cpu);
        // The payload's own tid (the woken task) keeps the role; the context comes after, prefixed.
        Assert.Equal(77, e.Get(FieldRole.Tid));
        Assert.Equal(["tid", "context.tid", "context.procname"], e.Type.Fields.Select(f => f.Name));
        Assert.Equal("qemu-system-x86", Text(e, "context.procname"));
    }

    [Fact]
    public void Read_PerfStyleTraceWithoutCpuId_TakesTidAndCpuFromPayload()
    {
        using var t = new TestCtfTrace();
        const string Metadata = """
            /* CTF 1.8 */
            trace { major = 1; minor = 8; byte_order = le; packet.header := struct { integer { size = 32; align = 8; signed = false; } magic; }; };
            clock { name = perf_clock; freq = 1000000000; offset = 1000; };
            stream {
                event.header := struct {
                    integer { size = 32; align = 8; signed = false; } id;
                    integer { size = 64; align = 8; signed = false; map = clock.perf_clock.value; } timestamp;
                };
            };
            event {
                id = 0;
                name = "sched:sched_switch";
                fields := struct {
                    integer { size = 32; align = 1; signed = true; } perf_tid;
                    integer { size = 32; align = 1; signed = true; } perf_cpu;
                    string { encoding = UTF8; } prev_comm;
                };
            };
            """;
        t.WriteMetadata(Metadata);
        var w = new CtfBitWriter();
        w.Int(TestCtfTrace.Magic, 32);
        w.Int(0, 32).Int(500, 64).Int(99, 32).Int(1, 32).String("bash");
        t.WriteStream("perf_stream_0", w.ToArray());

        using var source = CtfTraceSource.Open(t.Directory);
        Assert.True(source.MoveNext());
        var e = source.Current;
        Assert.Equal(KnownEvent.SchedSwitch, e.Known);
        Assert.Equal(1500, e.Timestamp);
        Assert.Equal(99, e.Tid);
        Assert.Equal(1, e.Cpu);
        Assert.Equal("bash", Text(e, "prev_comm"));
        Assert.False(source.MoveNext());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_PacketizedMetadataInEitherByteOrder_ParsesLikeText(bool bigEndian)
    {
        using var t = new TestCtfTrace(bigEndian);
        var tsdl = TestCtfTrace.Metadata(bigEndian, TypesEvent(bigEndian));
        t.WritePacketizedMetadata(tsdl);

        var packetized = CtfMetadata.Load(Path.Combine(t.Directory, "metadata"));
        var text = CtfMetadata.Parse(tsdl);

        Assert.Equal(bigEndian ? CtfByteOrder.Big : CtfByteOrder.Little, packetized.ByteOrder);
        Assert.Equal(text.FindEvent("types")!.Fields.Select(f => f.ToString()), packetized.FindEvent("types")!.Fields.Select(f => f.ToString()));
        Assert.Equal("testhost", packetized.Environment["hostname"]);
    }

    [Fact]
    public void Clock_FrequencyAndOffsets_ConvertCyclesToNanoseconds()
    {
        var clock = new CtfClock { Frequency = 100_000_000, OffsetSeconds = 2, OffsetCycles = 50 };
        // (50 + 1000) cycles at 100 MHz = 10 500 ns, plus 2 s.
        Assert.Equal(2_000_010_500, clock.ToNanoseconds(1000));
    }

    private static long Get(in TraceEvent e, string name) => e.GetInt64(e.Type.IndexOf(name));

    private static string Text(in TraceEvent e, string name) => Encoding.UTF8.GetString(e.GetBytes(e.Type.IndexOf(name)));
}
