using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Vmtrace.Agent;
using Vmtrace.Decoding;
using Vmtrace.Kafka;
using Vmtrace.TestSupport;
using Vmtrace.Wire;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// Garbage in the middle of a host's stream (agent → mock Kafka over TCP → worker → influxd): every kind goes to the
/// dead-letter topic with its reason and origin, is counted, and changes nothing: InfluxDB still holds exactly what
/// <c>vmtrace analyze</c> gives.
/// </summary>
public sealed class DeadLetterPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    private static readonly string[] Inputs = [Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms/trace.dat.xz")];
    private const string Host = "tcg-3vms";

    [InfluxFact]
    public async Task GarbageMidStream_IncludingADamagedRecordOfTheSameHostUnderAnotherSession_DeadLetteredAndPointsExact()
    {
        var expected = await PipelineHarness.AnalyzeAsync(Inputs, Host);
        using var h = new PipelineHarness(influx);
        var garbage = Garbage();

        // The real agent's pipeline; the garbage goes out through the same producer after its 6th record (inventory
        // and the first batches already sent), so it lands mid-session in the host's partition.
        var counters = new AgentCounters();
        using (var kafka = new KafkaRecordSink(h.Kafka, 64 * 1024, counters))
        {
            var sink = new InjectingSink(kafka, afterRecords: 6, garbage.Select(g => g.Value).ToList());
            new AgentPipeline(new ReplaySource(Inputs, Host), sink, new AgentOptions { BatchMaxEvents = 4096 }).Run(CancellationToken.None);
            kafka.Flush(TimeSpan.FromSeconds(30));
            Assert.True(sink.Injected, "the stream was too short for the garbage to go mid-stream");
        }

        using var worker = h.Worker();
        await worker.StartAsync();
        var wc = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => wc.SessionsEnded == 1);
        await worker.StopAsync();
        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(garbage.Count, wc.DeadLettered);
        Assert.Equal(0, wc.SessionsCutShort);

        var dead = ReadDeadLetters(h.Kafka, garbage.Count);
        Assert.Equal(garbage.Count, dead.Count);
        var origins = new HashSet<string>();
        foreach (var (value, reason) in garbage)
        {
            var d = Assert.Single(dead, r => r.Message.Value.AsSpan().SequenceEqual(value));
            Assert.Equal(Host, d.Message.Key);
            Assert.Contains(reason, Header(d, KafkaHeaders.DeadLetterReason), StringComparison.Ordinal);
            string origin = Header(d, KafkaHeaders.DeadLetterOrigin);
            Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(h.Kafka.EventsTopic)}/\d+@\d+$", origin);
            origins.Add(origin);
        }
        Assert.Equal(garbage.Count, origins.Count);
    }

    /// <summary>Each garbage value with the words its dead-letter reason must contain.</summary>
    private static List<(byte[] Value, string Reason)> Garbage()
    {
        // A real batch of the same host under another session: the first 1000 events of the trace.
        var records = new HostRecordWriter(Host, "another-session");
        var writer = new EventBatchWriter(records, new EventBatchWriterOptions { MaxEvents = 1000, MaxSpanNs = long.MaxValue });
        using (var source = TraceOpener.OpenAll(Inputs))
        {
            writer.CpuCount = source.CpuCount;
            writer.Clock = source.Clock;
            while (!writer.IsFull && source.MoveNext())
                writer.Append(source.Current);
        }
        byte[] batch = writer.Flush();
        Assert.Equal(HostRecordKind.EventBatch, HostRecord.Read(batch).Kind);

        byte[] truncated = batch[..(batch.Length / 2)];
        byte[] unknownVersion = (byte[])batch.Clone();
        Assert.Equal(0x08, unknownVersion[0]); // schema_version, field 1 varint, written first
        unknownVersion[1] = 99;
        // The envelope is intact; the body claims one event more than its columns hold: it fails only after 1000 good
        // events, so a worker that fed events before checking the whole record would have reset and fed the host.
        byte[] damagedBody = WithEventCountPlusOne(batch);
        return
        [
            ("this is not a vmtrace record"u8.ToArray(), "not a vmtrace record"),
            (truncated, "not a vmtrace record"),
            (unknownVersion, "schema version 99 is not supported"),
            (damagedBody, "damaged event batch (host " + Host + ", session another-session"),
        ];
    }

    /// <summary>The record with EventBatch.event_count (field 1 of the body, field 10 of the envelope) one higher, same length.</summary>
    private static byte[] WithEventCountPlusOne(byte[] record)
    {
        byte[] copy = (byte[])record.Clone();
        int pos = 0;
        while (pos < copy.Length)
        {
            ulong tag = ReadVarint(copy, ref pos);
            int field = (int)(tag >> 3), type = (int)(tag & 7);
            if (type == 0)
            {
                ReadVarint(copy, ref pos);
                continue;
            }
            Assert.Equal(2, type);
            int length = (int)ReadVarint(copy, ref pos);
            if (field == WireSchemaFields.RecordEvents)
            {
                int body = pos;
                Assert.Equal(0x08, copy[body]); // event_count, field 1 varint
                int valueAt = body + 1, end = valueAt;
                ulong count = ReadVarint(copy, ref end);
                Assert.Equal(1000UL, count);
                // 1000 and 1001 are both two-byte varints: 0xE8 0x07 → 0xE9 0x07.
                Assert.Equal(2, end - valueAt);
                copy[valueAt]++;
                return copy;
            }
            pos += length;
        }
        throw new InvalidOperationException("no event batch body");
    }

    private static ulong ReadVarint(byte[] data, ref int pos)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return v;
        }
    }

    private static string Header(ConsumeResult<string, byte[]> r, string name) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(name));

    private static List<ConsumeResult<string, byte[]>> ReadDeadLetters(KafkaOptions kafka, int count)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(kafka.Apply(new ConsumerConfig { GroupId = "dlq-reader", AutoOffsetReset = AutoOffsetReset.Earliest })).Build();
        consumer.Subscribe(kafka.DeadLetterTopic);
        var found = new List<ConsumeResult<string, byte[]>>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (found.Count < count && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                found.Add(r);
        }
        // Nothing more than the garbage: a short extra look for a record that should not be there.
        if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } extra)
            found.Add(extra);
        return found;
    }

    private static class WireSchemaFields
    {
        public const int RecordEvents = 10; // HostRecord.events in proto/vmtrace/v1/events.proto
    }

    /// <summary>Passes the agent's records on and, after the first <c>afterRecords</c>, sends the garbage through the same producer.</summary>
    private sealed class InjectingSink(IRecordSink inner, int afterRecords, IReadOnlyList<byte[]> garbage) : IRecordSink
    {
        private int _sent;

        public bool Injected { get; private set; }

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken)
        {
            inner.Send(key, value, sessionEnd, cancellationToken);
            if (++_sent == afterRecords)
            {
                foreach (var g in garbage)
                    inner.Send(key, g, false, cancellationToken);
                Injected = true;
            }
        }

        public void Flush(TimeSpan timeout) => inner.Flush(timeout);
    }
}
