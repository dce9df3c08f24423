using System.Buffers.Binary;
using System.Globalization;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// The frame of an analysis checkpoint (docs/checkpoint-format.md): the magic <c>VMTRACE-HA</c>, a 16-bit
/// format version, a section count, then each section as its id (1 byte), payload length (32 bits), CRC-32
/// of the payload (32 bits) and payload. All integers little-endian. A reader refuses another version by
/// number, and names the section that is cut short, fails its checksum or does not parse.
/// </summary>
internal static class CheckpointFile
{
    public static ReadOnlySpan<byte> Magic => "VMTRACE-HA"u8;

    /// <summary>The format this build writes and reads. Version 1 was a reflection dump of the fields, no longer read.</summary>
    public const ushort Version = 3;

    private const int SectionHeaderBytes = 1 + 4 + 4;

    public static void WriteHeader(Stream destination, int sections)
    {
        Span<byte> head = stackalloc byte[Magic.Length + 3];
        Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt16LittleEndian(head[Magic.Length..], Version);
        head[^1] = checked((byte)sections);
        destination.Write(head);
    }

    public static void WriteSection(Stream destination, CheckpointSection section, ReadOnlySpan<byte> payload)
    {
        Span<byte> head = stackalloc byte[SectionHeaderBytes];
        head[0] = (byte)section;
        BinaryPrimitives.WriteInt32LittleEndian(head[1..], payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[5..], Crc32.Of(payload));
        destination.Write(head);
        destination.Write(payload);
    }

    /// <summary>
    /// The bytes of one checkpoint read from a stream, no further than its last section. When the stream ends
    /// early or the header is not this version's, what was read is returned for <see cref="ReadSections"/> to name.
    /// </summary>
    public static byte[] ReadFrame(Stream source)
    {
        using var frame = new MemoryStream();
        int headBytes = Magic.Length + 3;
        var head = new byte[headBytes];
        int got = source.ReadAtLeast(head, headBytes, throwOnEndOfStream: false);
        frame.Write(head, 0, got);
        if (got < headBytes || !head.AsSpan(0, Magic.Length).SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(Magic.Length)) != Version)
            return frame.ToArray();
        var sectionHead = new byte[SectionHeaderBytes];
        for (int i = 0; i < head[^1]; i++)
        {
            got = source.ReadAtLeast(sectionHead, SectionHeaderBytes, throwOnEndOfStream: false);
            frame.Write(sectionHead, 0, got);
            int length = BinaryPrimitives.ReadInt32LittleEndian(sectionHead.AsSpan(1));
            if (got < SectionHeaderBytes || length < 0)
                break;
            // In chunks: a damaged length must not allocate more than the stream holds.
            var chunk = new byte[Math.Min(length, 1 << 16)];
            int left = length;
            while (left > 0 && (got = source.Read(chunk, 0, Math.Min(left, chunk.Length))) > 0)
            {
                frame.Write(chunk, 0, got);
                left -= got;
            }
            if (left > 0)
                break;
        }
        return frame.ToArray();
    }

    /// <summary>Checks the frame and returns a reader per section, in file order.</summary>
    /// <exception cref="CheckpointFormatException">Not a checkpoint, another version, a section cut short or failing its checksum.</exception>
    public static List<SectionReader> ReadSections(byte[] data)
    {
        int headBytes = Magic.Length + 3;
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointFormatException("not an analysis checkpoint (magic bytes differ)");
        if (data.Length < headBytes)
            throw new CheckpointFormatException($"analysis checkpoint cut short at byte {data.Length.ToString(CultureInfo.InvariantCulture)}, in its header");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(Magic.Length));
        if (version != Version)
            throw new CheckpointFormatException(
                $"analysis checkpoint format version {version.ToString(CultureInfo.InvariantCulture)}; this build reads version {Version.ToString(CultureInfo.InvariantCulture)} only");
        int count = data[headBytes - 1];
        var sections = new List<SectionReader>(count);
        int pos = headBytes;
        for (int i = 0; i < count; i++)
        {
            if (data.Length - pos < SectionHeaderBytes)
                throw new CheckpointFormatException(
                    $"analysis checkpoint cut short at byte {data.Length.ToString(CultureInfo.InvariantCulture)}: section {(i + 1).ToString(CultureInfo.InvariantCulture)} of {count.ToString(CultureInfo.InvariantCulture)} missing");
            var section = (CheckpointSection)data[pos];
            string name = CheckpointSections.Name(section);
            int length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 1));
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 5));
            int start = pos + SectionHeaderBytes;
            if (length < 0)
                throw new CheckpointFormatException($"analysis checkpoint section '{name}' damaged at byte {pos.ToString(CultureInfo.InvariantCulture)}: length {length.ToString(CultureInfo.InvariantCulture)}");
            if (length > data.Length - start)
                throw new CheckpointFormatException(
                    $"analysis checkpoint cut short in section '{name}' at byte {data.Length.ToString(CultureInfo.InvariantCulture)}: the section declares {length.ToString(CultureInfo.InvariantCulture)} bytes, {(data.Length - start).ToString(CultureInfo.InvariantCulture)} remain");
            if (Crc32.Of(data.AsSpan(start, length)) != crc)
                throw new CheckpointFormatException(
                    $"analysis checkpoint section '{name}' damaged: its checksum differs (bytes {start.ToString(CultureInfo.InvariantCulture)} to {(start + length).ToString(CultureInfo.InvariantCulture)})");
            sections.Add(new SectionReader(section, data, start, length));
            pos = start + length;
        }
        if (pos != data.Length)
            throw new CheckpointFormatException($"analysis checkpoint damaged: {(data.Length - pos).ToString(CultureInfo.InvariantCulture)} bytes after its last section");
        return sections;
    }

    /// <summary>The section of that id; its absence is named.</summary>
    public static SectionReader Find(List<SectionReader> sections, CheckpointSection section)
    {
        foreach (var s in sections)
        {
            if (s.Section == section)
                return s;
        }
        throw new CheckpointFormatException($"analysis checkpoint damaged: section '{CheckpointSections.Name(section)}' missing");
    }
}
