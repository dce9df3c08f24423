using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Wire.Tests;

/// <summary>Damaged records: a clear <see cref="WireFormatException"/> naming the problem and offset, never another crash, never a hang.</summary>
public sealed class CorruptionTests
{
    private static byte[] MixedRecord()
    {
        var source = ScriptedEvents.Mixed();
        var writer = new EventBatchWriter(new HostRecordWriter("host-c"));
        while (source.MoveNext())
            writer.Append(source.Current);
        return writer.Flush();
    }

    /// <summary>Decodes every event; returns the count. Only <see cref="WireFormatException"/> may escape.</summary>
    private static int DecodeAll(byte[] record, EventBatchReader reader)
    {
        var header = HostRecord.Read(record);
        if (header.Kind != HostRecordKind.EventBatch)
            return 0;
        reader.Load(header);
        int n = 0;
        while (reader.MoveNext())
        {
            var e = reader.Current;
            for (int k = 0; k < e.FieldCount; k++)
            {
                if (e.IsPresent(k) && e.Type.Fields[k].Kind == FieldKind.String)
                    _ = e.GetBytes(k).Length;
            }
            n++;
        }
        return n;
    }

    [Fact]
    public void Read_EveryTruncation_ThrowsWireFormatExceptionWithOffset()
    {
        byte[] record = MixedRecord();
        var reader = new EventBatchReader();
        Assert.Equal(9, DecodeAll(record, reader));
        for (int length = 0; length < record.Length; length++)
        {
            var cut = record.AsSpan(0, length).ToArray();
            var ex = Assert.ThrowsAny<WireFormatException>(() => DecodeAll(cut, reader));
            Assert.InRange(ex.Offset, 0, record.Length);
            Assert.Contains("at byte", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Read_EverySingleBitFlip_DecodesOrThrowsWireFormatException()
    {
        byte[] record = MixedRecord();
        var reader = new EventBatchReader();
        int rejected = 0;
        for (int i = 0; i < record.Length * 8; i++)
        {
            var flipped = (byte[])record.Clone();
            flipped[i / 8] ^= (byte)(1 << (i % 8));
            try
            {
                DecodeAll(flipped, reader);
            }
            catch (WireFormatException)
            {
                rejected++;
            }
        }
        // Most flips land in lengths, tags, counts or indexes and are caught; flips inside a value decode to another value.
        Assert.True(rejected > record.Length, $"only {rejected} of {record.Length * 8} flips were detected");
    }

    [CorpusFact]
    public void Read_RandomDamageToRealBatch_DecodesOrThrowsWireFormatException()
    {
        using var source = TraceOpener.Open(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"));
        var writer = new EventBatchWriter(new HostRecordWriter("h"), new EventBatchWriterOptions { MaxEvents = 2000 });
        while (source.MoveNext() && !writer.IsFull)
            writer.Append(source.Current);
        byte[] record = writer.Flush();
        var reader = new EventBatchReader();
        Assert.Equal(2000, DecodeAll(record, reader));
        var random = new Random(1234);
        int rejected = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var damaged = (byte[])record.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++)
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            try
            {
                DecodeAll(damaged, reader);
            }
            catch (WireFormatException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 0);
    }

    [Fact]
    public void Read_RandomBytes_ThrowsWireFormatException()
    {
        var random = new Random(99);
        var reader = new EventBatchReader();
        for (int trial = 0; trial < 500; trial++)
        {
            var garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            Assert.ThrowsAny<WireFormatException>(() => DecodeAll(garbage, reader));
        }
    }

    [Fact]
    public void Read_HugeLengthPrefix_ThrowsWithoutAllocating()
    {
        // HostRecord { schema_version = 1; events = <length 2^62> } with 3 bytes of content.
        byte[] record = [0x08, 0x01, 0x52, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x01, 0x02, 0x03];
        var ex = Assert.ThrowsAny<WireFormatException>(() => HostRecord.Read(record));
        Assert.Equal(2, ex.Offset);
        Assert.Contains("runs past the end", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EventCountLargerThanColumns_NamesTheColumn()
    {
        var batch = new Proto.EventBatch { EventCount = 2 };
        batch.EventTypes.Add(new Proto.EventTypeDesc { Name = "x" });
        batch.TimestampDeltas.Add(5);
        batch.TypeIndexes.Add(0);
        batch.Cpus.Add(0);
        batch.TidDeltas.Add(1);
        var record = Google.Protobuf.MessageExtensions.ToByteArray(new Proto.HostRecord { SchemaVersion = 1, HostId = "h", Events = batch });
        var reader = new EventBatchReader();
        reader.Load(record);
        Assert.True(reader.MoveNext());
        var ex = Assert.ThrowsAny<WireFormatException>(() => reader.MoveNext());
        Assert.Contains("timestamp_deltas", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TypeIndexOutOfRange_NamesTheEvent()
    {
        var batch = new Proto.EventBatch { EventCount = 1 };
        batch.EventTypes.Add(new Proto.EventTypeDesc { Name = "x" });
        batch.TimestampDeltas.Add(5);
        batch.TypeIndexes.Add(3);
        batch.Cpus.Add(0);
        batch.TidDeltas.Add(1);
        var record = Google.Protobuf.MessageExtensions.ToByteArray(new Proto.HostRecord { SchemaVersion = 1, HostId = "h", Events = batch });
        var reader = new EventBatchReader();
        reader.Load(record);
        var ex = Assert.ThrowsAny<WireFormatException>(() => reader.MoveNext());
        Assert.Contains("event 0 has type 3, but the batch has 1 types", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_StringIndexOutOfRange_NamesTheColumn()
    {
        var batch = new Proto.EventBatch { EventCount = 1 };
        batch.EventTypes.Add(new Proto.EventTypeDesc
        {
            Name = "net_dev_xmit",
            Fields = { new Proto.FieldDesc { Name = "name", Kind = Proto.FieldKind.String, Encoding = Proto.ColumnEncoding.StringIndex } },
        });
        batch.TimestampDeltas.Add(5);
        batch.TypeIndexes.Add(0);
        batch.Cpus.Add(0);
        batch.TidDeltas.Add(1);
        batch.Columns.Add(new Proto.FieldColumn { Values = { 4 } });
        var record = Google.Protobuf.MessageExtensions.ToByteArray(new Proto.HostRecord { SchemaVersion = 1, HostId = "h", Events = batch });
        var reader = new EventBatchReader();
        reader.Load(record);
        var ex = Assert.ThrowsAny<WireFormatException>(() => reader.MoveNext());
        Assert.Contains("net_dev_xmit.name: string index 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NewerSchemaVersion_ThrowsVersionException()
    {
        var record = Google.Protobuf.MessageExtensions.ToByteArray(
            new Proto.HostRecord { SchemaVersion = 4, HostId = "h", Heartbeat = new Proto.Heartbeat { WatermarkNs = 1 } });
        var ex = Assert.Throws<WireVersionException>(() => HostRecord.Read(record));
        Assert.Equal(4u, ex.Version);
        Assert.Contains("schema version 4 is not supported (this reader understands versions 1 to 3)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AgentHealthMarkedVersion1_Refused()
    {
        // A version-1 reader cannot know agent_health: a record claiming version 1 with it is damaged.
        var record = Google.Protobuf.MessageExtensions.ToByteArray(
            new Proto.HostRecord { SchemaVersion = 1, HostId = "h", AgentHealth = new Proto.AgentHealth { EventsRead = 1 } });
        var ex = Assert.ThrowsAny<WireFormatException>(() => HostRecord.Read(record));
        Assert.Contains("agent_health in a schema version 1 record", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoVersion_SaysItIsNotAWireRecord()
    {
        var record = Google.Protobuf.MessageExtensions.ToByteArray(new Proto.HostRecord { HostId = "h", Heartbeat = new Proto.Heartbeat() });
        var ex = Assert.ThrowsAny<WireFormatException>(() => HostRecord.Read(record));
        Assert.Contains("no schema_version", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_HeartbeatRecord_SaysWhatItHolds()
    {
        var record = new HostRecordWriter("h").Heartbeat(5);
        var ex = Assert.Throws<InvalidOperationException>(() => new EventBatchReader().Load(record));
        Assert.Contains("holds Heartbeat, not EventBatch", ex.Message, StringComparison.Ordinal);
    }
}
