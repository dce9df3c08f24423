using System.Buffers.Binary;
using System.Text;
using Vmtrace.Decoding.Ctf;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>
/// Damaged copies of a real trace (bug446190: four little-endian stream files, channel0_1 holds three
/// packets): each damage gives an error naming the file and offset, the skipped bytes are counted, and
/// every other packet is still read — as many events as a copy with the damaged packet cut out.
/// </summary>
public sealed class CtfCorruptionTests : IDisposable
{
    private const string Damaged = "channel0_1";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vmtrace-ctf-corrupt-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory must not fail a test.
        }
    }

    private string CopyTrace(string name)
    {
        string source = Corpus.Path("tracecompass-test-traces-ctf/bug446190");
        string dest = Path.Combine(_root, name);
        Directory.CreateDirectory(dest);
        foreach (var f in Directory.EnumerateFiles(source))
        {
            string target = Path.Combine(dest, Path.GetFileName(f));
            File.Copy(f, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }
        return dest;
    }

    /// <summary>The packets of the damaged stream file, from the intact copy.</summary>
    private static List<(long Offset, long Bytes)> PacketsOf(string directory) =>
        CtfTraceSource.ListPackets(directory).Where(p => Path.GetFileName(p.File) == Damaged).Select(p => (p.Offset, p.Bytes)).ToList();

    /// <summary>A copy whose damaged file lacks one packet: the reference for "every other packet is read".</summary>
    private long CountWithoutPacket((long Offset, long Bytes) packet)
    {
        string dir = CopyTrace("cut-" + Guid.NewGuid().ToString("N")[..6]);
        string file = Path.Combine(dir, Damaged);
        var bytes = File.ReadAllBytes(file).ToList();
        bytes.RemoveRange((int)packet.Offset, (int)packet.Bytes);
        File.WriteAllBytes(file, [.. bytes]);
        var summary = CtfReading.Summarize(dir);
        Assert.True(summary.Diagnostics.IsClean);
        return summary.Total;
    }

    private static void Damage(string directory, Action<byte[]> change)
    {
        string file = Path.Combine(directory, Damaged);
        var bytes = File.ReadAllBytes(file);
        change(bytes);
        File.WriteAllBytes(file, bytes);
    }

    private static TraceFormatException SingleError(CtfReading.Summary summary)
    {
        Assert.Equal(1, summary.Diagnostics.ErrorCount);
        var error = Assert.Single(summary.Diagnostics.Errors);
        Assert.Equal(Damaged, Path.GetFileName(error.File));
        return error;
    }

    [CorpusFact]
    public void Read_StreamTruncatedInsideLastPacket_ReportsItAndReadsEveryEarlierPacketAndTheEventsBeforeTheCut()
    {
        string dir = CopyTrace("truncated");
        var packets = PacketsOf(dir);
        Assert.Equal(3, packets.Count);
        var last = packets[^1];
        long whole = CtfReading.Summarize(dir).Total;
        using (var f = new FileStream(Path.Combine(dir, Damaged), FileMode.Open))
            f.SetLength(last.Offset + 100);

        var summary = CtfReading.Summarize(dir);

        var error = SingleError(summary);
        Assert.Equal(last.Offset, error.Offset);
        Assert.Contains("past the end of the file", error.Message, StringComparison.Ordinal);
        Assert.InRange(summary.Diagnostics.SkippedBytes, 1, 99); // the record cut in two; the packet's first events are read
        Assert.InRange(summary.Total, CountWithoutPacket(last) + 1, whole - 1);
    }

    [CorpusFact]
    public void Read_FlippedMagicInMiddlePacket_SkipsToNextPacketMagic()
    {
        string dir = CopyTrace("magic");
        var middle = PacketsOf(dir)[1];
        Damage(dir, b => b[middle.Offset] ^= 0xFF);

        var summary = CtfReading.Summarize(dir);

        var error = SingleError(summary);
        Assert.Equal(middle.Offset, error.Offset);
        Assert.Contains("bad packet magic", error.Message, StringComparison.Ordinal);
        Assert.Equal(middle.Bytes, summary.Diagnostics.SkippedBytes);
        Assert.Equal(CountWithoutPacket(middle), summary.Total);
    }

    // bug446190 packet layout (from its metadata, all little-endian): magic@0, uuid@4, stream_id@20,
    // then the packet context: timestamp_begin@24, timestamp_end@32, content_size@40, packet_size@48 (64 bits each, in bits).
    private const int ContentSizeAt = 40;
    private const int PacketSizeAt = 48;

    [CorpusFact]
    public void Read_BogusPacketSizeInMiddlePacket_ReportsItAndResynchronizes()
    {
        string dir = CopyTrace("packet-size");
        var middle = PacketsOf(dir)[1];
        Damage(dir, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)middle.Offset + PacketSizeAt), 0x7FFF_FFFF_0000));

        var summary = CtfReading.Summarize(dir);

        var error = SingleError(summary);
        Assert.Equal(middle.Offset, error.Offset);
        Assert.Contains("packet_size", error.Message, StringComparison.Ordinal);
        Assert.Equal(middle.Bytes, summary.Diagnostics.SkippedBytes);
        Assert.Equal(CountWithoutPacket(middle), summary.Total);
    }

    [CorpusFact]
    public void Read_ContentSizeAbovePacketSize_SkipsThatPacketByItsSize()
    {
        string dir = CopyTrace("content-size");
        var middle = PacketsOf(dir)[1];
        Damage(dir, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)middle.Offset + ContentSizeAt), (ulong)middle.Bytes * 8 + 8));

        var summary = CtfReading.Summarize(dir);

        var error = SingleError(summary);
        Assert.Equal(middle.Offset, error.Offset);
        Assert.Contains("exceeds packet_size", error.Message, StringComparison.Ordinal);
        Assert.Equal(middle.Bytes, summary.Diagnostics.SkippedBytes);
        Assert.Equal(CountWithoutPacket(middle), summary.Total);
    }

    [CorpusFact]
    public void Read_ContentSizeCuttingTheFirstEvent_ReportsEventPastContentAndGoesOn()
    {
        string dir = CopyTrace("short-content");
        var middle = PacketsOf(dir)[1];
        // The context ends at byte 72 (cpu_id@64, 32 bits, then the header aligns to 32 bits); 20 more bits cannot hold an event header.
        Damage(dir, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)middle.Offset + ContentSizeAt), 72 * 8 + 20));

        var summary = CtfReading.Summarize(dir);

        var error = SingleError(summary);
        Assert.InRange(error.Offset, middle.Offset + 64, middle.Offset + 80);
        Assert.Contains("past the packet content", error.Message, StringComparison.Ordinal);
        Assert.Equal(middle.Offset + middle.Bytes - error.Offset, summary.Diagnostics.SkippedBytes);
        Assert.Equal(CountWithoutPacket(middle), summary.Total);
    }

    [CorpusFact]
    public void Open_CorruptTextInsidePacketizedMetadata_NamesMetadataFileAndLine()
    {
        string dir = CopyTrace("metadata-text");
        string metadata = Path.Combine(dir, "metadata");
        var bytes = File.ReadAllBytes(metadata);
        int at = Encoding.Latin1.GetString(bytes).IndexOf("struct packet_context", StringComparison.Ordinal);
        bytes[at + 3] = (byte)'#';
        File.WriteAllBytes(metadata, bytes);

        var ex = Assert.Throws<TraceFormatException>(() => CtfTraceSource.Open(dir));

        Assert.Equal(metadata, ex.File);
        Assert.Matches(@"metadata line \d+: unexpected character", ex.Message);
    }

    [CorpusFact]
    public void Open_CorruptMetadataPacketHeader_NamesMetadataFileAndPacketOffset()
    {
        string dir = CopyTrace("metadata-packet");
        string metadata = Path.Combine(dir, "metadata");
        var bytes = File.ReadAllBytes(metadata);
        // Second metadata packet: the first one's packet_size (bits, at byte 28) says where it starts.
        int second = (int)(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)) / 8);
        bytes[second] ^= 0xFF;
        File.WriteAllBytes(metadata, bytes);

        var ex = Assert.Throws<TraceFormatException>(() => CtfTraceSource.Open(dir));

        Assert.Equal(metadata, ex.File);
        Assert.Equal(second, ex.Offset);
        Assert.Contains("bad metadata packet magic", ex.Message, StringComparison.Ordinal);
    }
}
