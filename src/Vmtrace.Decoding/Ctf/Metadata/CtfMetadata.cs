namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// A parsed CTF 1.8 metadata stream: the trace block, environment, clocks, stream classes and event
/// classes. <see cref="Parse"/> reads TSDL text; <see cref="Load"/> reads a metadata file, plain text or
/// packetized (metadata packets with magic 0x75D11D57 in either byte order).
/// </summary>
public sealed class CtfMetadata
{
    internal CtfMetadata(int major, int minor, byte[]? uuid, CtfByteOrder byteOrder, CtfStruct? packetHeader,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, CtfClock> clocks,
        IReadOnlyList<CtfStreamClass> streams, IReadOnlyList<CtfEventClass> events, IReadOnlyList<string> warnings)
    {
        Warnings = warnings;
        Major = major;
        Minor = minor;
        Uuid = uuid;
        ByteOrder = byteOrder;
        PacketHeader = packetHeader;
        Environment = environment;
        Clocks = clocks;
        Streams = streams;
        Events = events;
    }

    public int Major { get; }
    public int Minor { get; }
    /// <summary>The trace UUID as the 16 bytes packet headers carry, or null.</summary>
    public byte[]? Uuid { get; }
    /// <summary>The trace's byte order (what <c>native</c> means): Little or Big.</summary>
    public CtfByteOrder ByteOrder { get; }
    public CtfStruct? PacketHeader { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }
    public IReadOnlyDictionary<string, CtfClock> Clocks { get; }
    public IReadOnlyList<CtfStreamClass> Streams { get; }
    public IReadOnlyList<CtfEventClass> Events { get; }
    /// <summary>What the parser tolerated (metadata cut short inside its last declaration).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The first event class with that name, or null.</summary>
    public CtfEventClass? FindEvent(string name) => Events.FirstOrDefault(e => e.Name == name);

    /// <summary>Parses TSDL text. Throws <see cref="TraceFormatException"/> naming <paramref name="file"/>, offset and line.</summary>
    public static CtfMetadata Parse(string text, string file = "metadata") => TsdlParser.Parse(text, file);

    /// <summary>Reads and parses a metadata file (plain or packetized).</summary>
    public static CtfMetadata Load(string path) => Parse(MetadataText.Read(path), path);
}
