using System.Buffers.Binary;
using System.Text;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>
/// A tiny CTF 1.8 writer for tests: LTTng-like metadata (compact/extended event header, packet
/// context with sizes, events_discarded, packet_seq_num and cpu_id) around event blocks the test
/// supplies, and packets whose events the test writes with a <see cref="CtfBitWriter"/>.
/// Writes into a fresh temporary directory, deleted on dispose.
/// </summary>
internal sealed class TestCtfTrace : IDisposable
{
    public const uint Magic = 0xC1FC1FC1;

    public TestCtfTrace(bool bigEndian = false)
    {
        BigEndian = bigEndian;
        Directory = Path.Combine(Path.GetTempPath(), "vmtrace-ctf-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }
    public bool BigEndian { get; }

    /// <summary>TSDL for the trace, clock, stream and integer aliases; event blocks and the stream's event context are added.</summary>
    public static string Metadata(bool bigEndian, string events, string? streamEventContext = null, ulong clockFrequency = 1_000_000_000,
        long clockOffset = 0) => $$"""
        /* CTF 1.8 */
        typealias integer { size = 5; align = 1; signed = false; } := uint5_t;
        typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
        typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
        typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
        typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
        typealias integer { size = 32; align = 8; signed = true; } := int32_t;
        typealias integer { size = 64; align = 8; signed = false; } := unsigned long;

        trace {
            major = 1;
            minor = 8;
            byte_order = {{(bigEndian ? "be" : "le")}};
            packet.header := struct {
                uint32_t magic;
                uint32_t stream_id;
            };
        };

        env {
            hostname = "testhost";
            tracer_major = 2;
        };

        clock {
            name = "testclock";
            freq = {{clockFrequency}};
            offset_s = 0;
            offset = {{clockOffset}};
        };

        typealias integer { size = 27; align = 1; signed = false; map = clock.testclock.value; } := uint27_clock_t;
        typealias integer { size = 64; align = 8; signed = false; map = clock.testclock.value; } := uint64_clock_t;

        struct packet_context {
            uint64_clock_t timestamp_begin;
            uint64_clock_t timestamp_end;
            uint64_t content_size;
            uint64_t packet_size;
            uint64_t packet_seq_num;
            unsigned long events_discarded;
            uint32_t cpu_id;
        };

        struct event_header_compact {
            enum : uint5_t { compact = 0 ... 30, extended = 31 } id;
            variant <id> {
                struct { uint27_clock_t timestamp; } compact;
                struct { uint32_t id; uint64_clock_t timestamp; } extended;
            } v;
        } align(8);

        stream {
            id = 0;
            event.header := struct event_header_compact;
            packet.context := struct packet_context;
            {{(streamEventContext is null ? "" : "event.context := struct { " + streamEventContext + " };")}}
        };

        {{events}}
        """;

    public void WriteMetadata(string tsdl) => File.WriteAllText(Path.Combine(Directory, "metadata"), tsdl);

    /// <summary>Writes the metadata as LTTng does on disk: metadata packets (37-byte headers), in the trace's byte order.</summary>
    public void WritePacketizedMetadata(string tsdl, int payloadPerPacket = 100)
    {
        var text = Encoding.UTF8.GetBytes(tsdl);
        using var output = new MemoryStream();
        for (int offset = 0; offset < text.Length; offset += payloadPerPacket)
        {
            int n = Math.Min(payloadPerPacket, text.Length - offset);
            int content = 37 + n;
            int packet = content + 3; // some padding
            var header = new byte[packet];
            Write32(header, 0, 0x75D11D57);
            Write32(header, 24, (uint)content * 8);
            Write32(header, 28, (uint)packet * 8);
            header[35] = 1;
            header[36] = 8;
            Array.Copy(text, offset, header, 37, n);
            output.Write(header);
        }
        File.WriteAllBytes(Path.Combine(Directory, "metadata"), output.ToArray());
    }

    private void Write32(byte[] b, int offset, uint value)
    {
        if (BigEndian)
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(offset), value);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), value);
    }

    /// <summary>
    /// One packet: header, context (content_size and packet_size patched at the end), then the events
    /// <paramref name="writeEvents"/> writes; padded to <paramref name="packetBytes"/>.
    /// </summary>
    public byte[] Packet(ulong timestampBegin, ulong timestampEnd, Action<CtfBitWriter> writeEvents, ulong sequence = 0, ulong discarded = 0,
        uint cpu = 0, int packetBytes = 1024, uint magic = Magic)
    {
        var w = new CtfBitWriter();
        bool be = BigEndian;
        w.Int(magic, 32, be).Int(0, 32, be);
        w.Int(timestampBegin, 64, be).Int(timestampEnd, 64, be);
        long contentAt = w.BitPosition;
        w.Int(0, 64, be);
        long packetAt = w.BitPosition;
        w.Int(0, 64, be);
        w.Int(sequence, 64, be).Int(discarded, 64, be).Int(cpu, 32, be);
        writeEvents(w);
        long contentBits = w.BitPosition;
        w.Patch(contentAt, (ulong)contentBits, 64, be);
        w.Patch(packetAt, (ulong)packetBytes * 8, 64, be);
        if (contentBits > packetBytes * 8L)
            throw new InvalidOperationException("events do not fit in the packet");
        return w.ToArray(packetBytes);
    }

    /// <summary>Compact event header: 5-bit id, 27-bit timestamp (low bits of the clock).</summary>
    public CtfBitWriter Compact(CtfBitWriter w, int id, ulong timestamp)
    {
        w.Align(8);
        return w.Int((ulong)id, 5, BigEndian).Int(timestamp & ((1UL << 27) - 1), 27, BigEndian);
    }

    /// <summary>Extended event header: id 31, then a 32-bit id and a full 64-bit timestamp.</summary>
    public CtfBitWriter Extended(CtfBitWriter w, uint id, ulong timestamp)
    {
        w.Align(8);
        w.Int(31, 5, BigEndian).Align(8);
        return w.Int(id, 32, BigEndian).Int(timestamp, 64, BigEndian);
    }

    public void WriteStream(string name, params byte[][] packets) =>
        File.WriteAllBytes(Path.Combine(Directory, name), packets.SelectMany(p => p).ToArray());

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory must not fail a test.
        }
    }
}
