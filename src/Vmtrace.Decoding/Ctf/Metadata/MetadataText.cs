using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Turns a metadata file into TSDL text: concatenates the payloads of metadata packets (magic
/// 0x75D11D57, header of 37 bytes, sizes in bits) or takes plain text as it is. Text that still holds
/// leftovers of packet headers (a dump of a packetized stream, some bytes escaped as \XX) is cleaned.
/// </summary>
internal static partial class MetadataText
{
    public const uint PacketMagic = 0x75D11D57;
    private const int PacketHeaderBytes = 37;

    public static string Read(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            throw new TraceFormatException(path, 0, "cannot read metadata: " + ex.Message, ex);
        }
        return Decode(data, path);
    }

    public static string Decode(byte[] data, string path)
    {
        if (data.Length >= 4 && (BinaryPrimitives.ReadUInt32LittleEndian(data) == PacketMagic
            || BinaryPrimitives.ReadUInt32BigEndian(data) == PacketMagic))
            data = Depacketize(data, path);
        return Encoding.UTF8.GetString(Clean(data));
    }

    private static byte[] Depacketize(byte[] data, string path)
    {
        bool little = BinaryPrimitives.ReadUInt32LittleEndian(data) == PacketMagic;
        var text = new MemoryStream(data.Length);
        long offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < PacketHeaderBytes)
                throw new TraceFormatException(path, offset, "metadata packet header truncated");
            var header = data.AsSpan((int)offset, PacketHeaderBytes);
            uint magic = little ? BinaryPrimitives.ReadUInt32LittleEndian(header) : BinaryPrimitives.ReadUInt32BigEndian(header);
            if (magic != PacketMagic)
                throw new TraceFormatException(path, offset, $"bad metadata packet magic 0x{magic:X8}");
            uint contentBits = little ? BinaryPrimitives.ReadUInt32LittleEndian(header[24..]) : BinaryPrimitives.ReadUInt32BigEndian(header[24..]);
            uint packetBits = little ? BinaryPrimitives.ReadUInt32LittleEndian(header[28..]) : BinaryPrimitives.ReadUInt32BigEndian(header[28..]);
            if (header[32] != 0 || header[33] != 0)
                throw new TraceFormatException(path, offset, "compressed or encrypted metadata packets are not supported");
            if (packetBits % 8 != 0 || contentBits % 8 != 0 || contentBits < PacketHeaderBytes * 8 || contentBits > packetBits
                || packetBits / 8 > data.Length - offset)
                throw new TraceFormatException(path, offset,
                    $"bad metadata packet sizes (content {contentBits} bits, packet {packetBits} bits, {data.Length - offset} bytes left)");
            text.Write(data, (int)offset + PacketHeaderBytes, (int)(contentBits / 8) - PacketHeaderBytes);
            offset += packetBits / 8;
        }
        return text.ToArray();
    }

    /// <summary>
    /// Removes what cannot be TSDL: escaped packet headers left inside a text dump (padding "\00…",
    /// magic "W\x1d\D1u", then 33 header bytes each either raw or escaped as \XX), runs of escaped
    /// padding and control bytes.
    /// Plain valid TSDL passes through unchanged. Works on bytes (Latin-1) so one char is one byte.
    /// </summary>
    internal static byte[] Clean(byte[] data)
    {
        if (!NeedsCleaning(data))
            return data;
        var text = EscapedPacketHeader().Replace(Encoding.Latin1.GetString(data), "");
        var kept = new List<byte>(text.Length);
        foreach (char c in text)
        {
            if (c is '\t' or '\n' or '\r' || (c >= ' ' && c != '\x7f'))
                kept.Add((byte)c);
        }
        return kept.ToArray();
    }

    private static bool NeedsCleaning(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            if ((b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r')) || b == 0x7f)
                return true;
        }
        return data.IndexOf("\\00\\00"u8) >= 0;
    }

    [GeneratedRegex(@"(\\00)*W\x1d\\D1u((\\[0-9A-F]{2})|[\s\S]){33}|(\\00){2,}")]
    private static partial Regex EscapedPacketHeader();
}
