using System.Buffers.Binary;
using System.Text;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

public class FtraceEventDecoderTests
{
    // A format file in the kernel's layout, with every storage kind the decoder knows.
    private const string Format = """
        name: test_event
        ID: 777
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
        	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:char comm[16];	offset:8;	size:16;	signed:1;
        	field:__data_loc char[] name;	offset:24;	size:4;	signed:1;
        	field:short delta;	offset:28;	size:2;	signed:1;
        	field:unsigned char flag;	offset:30;	size:1;	signed:0;
        	field:void * ptr;	offset:32;	size:8;	signed:0;
        	field:unsigned long args[2];	offset:40;	size:16;	signed:0;
        	field:__rel_loc char[] rel;	offset:56;	size:4;	signed:1;
        	field:__data_loc u8[] blob;	offset:60;	size:4;	signed:0;
        	field:char buf[];	offset:64;	size:0;	signed:1;

        print fmt: "%s", REC->comm
        """;

    [Fact]
    public void ParseEvent_KernelFormat_ReadsNameIdAndEveryField()
    {
        var format = FtraceFormatParser.ParseEvent("test", Format, 8)!;

        Assert.Equal(("test_event", 777, "test"), (format.Name, format.Id, format.System));
        Assert.Equal(13, format.Fields.Count);
        var comm = format.Fields.Single(f => f.Name == "comm");
        Assert.Equal((FtraceFieldStorage.FixedArray, 16, 8, 16), (comm.Storage, comm.ArrayLength, comm.Offset, comm.Size));
        var name = format.Fields.Single(f => f.Name == "name");
        Assert.Equal((FtraceFieldStorage.DataLoc, "char[]", true), (name.Storage, name.Type, name.IsText));
        Assert.Equal(FtraceFieldStorage.RelLoc, format.Fields.Single(f => f.Name == "rel").Storage);
        Assert.Equal(FtraceFieldStorage.Trailing, format.Fields.Single(f => f.Name == "buf").Storage);
        Assert.True(format.Fields.Single(f => f.Name == "ptr").IsPointer);
        Assert.Equal(2, format.Fields.Single(f => f.Name == "args").ArrayLength);
    }

    [Fact]
    public void Decode_PayloadWithEveryStorageKind_FillsFieldsAndSkipsCommonOnes()
    {
        var decoder = new FtraceEventDecoder(FtraceFormatParser.ParseEvent("test", Format, 8)!, bigEndian: false);
        var payload = BuildPayload();
        var buffer = new EventRecordBuffer();

        Assert.True(decoder.Decode(payload, buffer));
        var e = buffer.View(0, 0, decoder.ReadPid(payload), decoder.Type);

        Assert.Equal(["comm", "name", "delta", "flag", "ptr", "args", "rel", "blob", "buf"], e.Type.Fields.Select(f => f.Name));
        Assert.Equal(4321, e.Tid);
        Assert.Equal("qemu-system-x86", e.GetString(0));
        Assert.Equal("eth0", e.GetString(1));
        Assert.Equal(-2, e.GetInt64(2));
        Assert.Equal(200, e.GetInt64(3));
        Assert.Equal(0xffff_8881_0000_1000UL, e.GetUInt64(4));
        Assert.Equal(16, e.Type.Fields[4].DisplayBase);
        Assert.Equal([7L, -1L], e.GetElements(5).ToArray());
        Assert.Equal("rel!", e.GetString(6));
        Assert.Equal([0xAAL, 0xBBL, 0xCCL], e.GetElements(7).ToArray());
        Assert.Equal("hi", e.GetString(8));
        Assert.Equal(0, e.Type.Slot(FieldRole.Comm));
    }

    [Fact]
    public void Decode_RecordShorterThanItsFixedFields_ReturnsFalse()
    {
        var decoder = new FtraceEventDecoder(FtraceFormatParser.ParseEvent("test", Format, 8)!, bigEndian: false);

        Assert.False(decoder.Decode(BuildPayload().AsSpan(0, 40), new EventRecordBuffer()));
    }

    [Fact]
    public void Decode_DataLocPointingOutsideTheRecord_GivesEmptyText()
    {
        var decoder = new FtraceEventDecoder(FtraceFormatParser.ParseEvent("test", Format, 8)!, bigEndian: false);
        var payload = BuildPayload();
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(24), (60u << 16) | 4000); // 60 bytes at 4000
        var buffer = new EventRecordBuffer();

        Assert.True(decoder.Decode(payload, buffer));

        Assert.Equal("", buffer.View(0, 0, 0, decoder.Type).GetString(1));
    }

    [Fact]
    public void ParseEvent_SchedSwitch_ResolvesCatalogRoles()
    {
        const string schedSwitch = """
            name: sched_switch
            ID: 316
            format:
            	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
            	field:int common_pid;	offset:4;	size:4;	signed:1;
            	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
            	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
            	field:int prev_prio;	offset:28;	size:4;	signed:1;
            	field:long prev_state;	offset:32;	size:8;	signed:1;
            	field:char next_comm[16];	offset:40;	size:16;	signed:0;
            	field:pid_t next_pid;	offset:56;	size:4;	signed:1;
            	field:int next_prio;	offset:60;	size:4;	signed:1;
            print fmt: "x"
            """;

        var decoder = new FtraceEventDecoder(FtraceFormatParser.ParseEvent("sched", schedSwitch, 8)!, bigEndian: false);

        Assert.Equal(KnownEvent.SchedSwitch, decoder.Type.Known);
        Assert.Equal(decoder.Type.IndexOf("next_pid"), decoder.Type.Slot(FieldRole.NextTid));
        Assert.Equal(FieldKind.String, decoder.Type.Fields[decoder.Type.Slot(FieldRole.PrevComm)].Kind);
    }

    private static byte[] BuildPayload()
    {
        var p = new byte[96];
        BinaryPrimitives.WriteUInt16LittleEndian(p, 777);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(4), 4321);
        Encoding.ASCII.GetBytes("qemu-system-x86").CopyTo(p, 8); // 15 chars + NUL
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(24), (5u << 16) | 68); // "eth0\0" at 68
        BinaryPrimitives.WriteInt16LittleEndian(p.AsSpan(28), -2);
        p[30] = 200;
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(32), 0xffff_8881_0000_1000UL);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(40), 7);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(48), ulong.MaxValue);
        // __rel_loc: offset from the end of the 4-byte field (60) → 73 - 60 = 13.
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(56), (5u << 16) | 13);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(60), (3u << 16) | 78);
        Encoding.ASCII.GetBytes("hi\0").CopyTo(p, 64); // trailing buf runs to the end; text stops at NUL
        Encoding.ASCII.GetBytes("eth0\0").CopyTo(p, 68);
        Encoding.ASCII.GetBytes("rel!\0").CopyTo(p, 73);
        p[78] = 0xAA; p[79] = 0xBB; p[80] = 0xCC;
        return p;
    }
}
