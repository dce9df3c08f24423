using System.Globalization;
using System.Text;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Reads the metadata of a trace-cmd trace.dat, version 6 (headers in a fixed order, then options and
/// the flyrecord per-CPU offsets) or version 7 (sections located by options, possibly compressed).
/// Damage in what the events need (header, formats) throws a <see cref="TraceFormatException"/>;
/// damage in optional parts is recorded in <see cref="TraceDatMetadata.Problems"/> and skipped.
/// </summary>
internal static class TraceDatMetadataReader
{
    private static readonly byte[] Magic = [0x17, 0x08, 0x44, (byte)'t', (byte)'r', (byte)'a', (byte)'c', (byte)'i', (byte)'n', (byte)'g'];
    private const int SectionHeaderSize = 16;
    private const int MaxOptionSections = 4096;
    private const uint MaxSectionUncompressed = 1u << 30;

    public static TraceDatMetadata Read(string path)
    {
        using var file = new TraceDatFileReader(path);
        var meta = new TraceDatMetadata { Path = path };
        ReadInitialFormat(file, meta);
        if (meta.Version >= 7)
            ReadVersion7(file, meta);
        else
            ReadVersion6(file, meta);
        if (meta.CpuCount == 0)
            meta.CpuCount = meta.Buffers.SelectMany(b => b.Cpus).Select(c => c.Cpu + 1).DefaultIfEmpty(0).Max();
        return meta;
    }

    private static void ReadInitialFormat(TraceDatFileReader file, TraceDatMetadata meta)
    {
        Span<byte> magic = stackalloc byte[10];
        if (file.Length < 10)
            throw file.Error(0, "too short for a trace.dat");
        file.ReadExactly(magic);
        if (!magic.SequenceEqual(Magic))
            throw file.Error(0, "not a trace.dat (bad magic)");
        string version = file.ReadCString(16);
        if (!int.TryParse(version, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 6 || v > 7)
            throw file.Error(10, $"trace.dat version '{version}' is not supported (6 and 7 are)");
        meta.Version = v;
        long at = file.Position;
        byte endian = file.ReadByte();
        if (endian > 1)
            throw file.Error(at, $"bad endianness flag {endian}");
        meta.BigEndian = endian == 1;
        file.BigEndian = meta.BigEndian;
        meta.LongSize = file.ReadByte();
        if (meta.LongSize is not (4 or 8))
            throw file.Error(at + 1, $"bad long size {meta.LongSize}");
        at = file.Position;
        uint pageSize = file.ReadU32();
        if (pageSize < 64 || pageSize > (1 << 24) || (pageSize & (pageSize - 1)) != 0)
            throw file.Error(at, $"implausible page size {pageSize}");
        meta.PageSize = (int)pageSize;
        meta.PageLayout = RingBufferPageLayout.For64BitKernel(meta.PageSize, meta.BigEndian);
    }

    // ---------------------------------------------------------------- version 6

    private static void ReadVersion6(TraceDatFileReader file, TraceDatMetadata meta)
    {
        ReadHeaderInfo(file, meta);
        ReadFtraceFormats(file, meta);
        ReadEventFormats(file, meta);
        file.Skip(file.ReadU32(), "kallsyms");
        file.Skip(file.ReadU32(), "trace_printk formats");
        ParseCmdlines(file.ReadBlock(file.ReadU64(), "saved command lines"), meta);
        long at = file.Position;
        uint cpus = file.ReadU32();
        if (cpus > 65536)
            throw file.Error(at, $"implausible CPU count {cpus}");
        meta.CpuCount = (int)cpus;

        var pendingBuffers = new List<(string Name, long Offset)>();
        string kind = ReadMarker(file);
        if (kind == "options")
        {
            while (true)
            {
                long optionAt = file.Position;
                ushort id = file.ReadU16();
                if (id == 0)
                    break;
                byte[] data = file.ReadBlock(file.ReadU32(), $"option {id}");
                try
                {
                    if ((TraceDatOption)id == TraceDatOption.Buffer)
                    {
                        var r = new MetadataSpanReader(data, file.Path, optionAt + 6, meta.BigEndian);
                        long offset = (long)r.ReadU64();
                        pendingBuffers.Add((r.ReadCString(), offset));
                    }
                    else
                    {
                        ApplyOption(id, data, optionAt + 6, meta);
                    }
                }
                catch (TraceFormatException ex)
                {
                    meta.Problems.Add((ex, data.Length));
                }
            }
            kind = ReadMarker(file);
        }
        if (kind == "latency")
            throw file.Error(file.Position, "latency-tracer trace.dat files (text data) are not supported");
        if (kind != "flyrecord")
            throw file.Error(file.Position - 10, $"expected 'flyrecord', found '{kind}'");

        meta.Buffers.Add(new TraceDatBuffer("", meta.TraceClock, meta.PageSize, false, ReadV6CpuTable(file, meta)));
        Span<byte> probe = stackalloc byte[10];
        foreach (var (name, offset) in pendingBuffers)
        {
            try
            {
                if (offset <= 0 || offset >= file.Length)
                    throw file.Error(offset, $"buffer instance '{name}' offset beyond the file");
                file.Position = offset;
                // Some writers repeat the "flyrecord" marker before an instance's table.
                file.ReadExactly(probe);
                if (!probe.SequenceEqual("flyrecord\0"u8))
                    file.Position = offset;
                meta.Buffers.Add(new TraceDatBuffer(name, meta.TraceClock, meta.PageSize, false, ReadV6CpuTable(file, meta)));
            }
            catch (TraceFormatException ex)
            {
                meta.Problems.Add((ex, 0));
            }
        }
    }

    private static string ReadMarker(TraceDatFileReader file)
    {
        Span<byte> marker = stackalloc byte[10];
        file.ReadExactly(marker);
        return Encoding.ASCII.GetString(marker).TrimEnd('\0', ' ');
    }

    private static List<TraceDatCpuData> ReadV6CpuTable(TraceDatFileReader file, TraceDatMetadata meta)
    {
        var table = new List<TraceDatCpuData>(meta.CpuCount);
        for (int cpu = 0; cpu < meta.CpuCount; cpu++)
        {
            long at = file.Position;
            ulong offset = file.ReadU64();
            ulong size = file.ReadU64();
            AddCpuData(table, cpu, offset, size, at, file, meta);
        }
        return table;
    }

    /// <summary>Adds one CPU's data range; a range cut by the end of the file is kept up to the end and the loss recorded.</summary>
    private static void AddCpuData(List<TraceDatCpuData> table, int cpu, ulong offset, ulong size, long entryAt, TraceDatFileReader file, TraceDatMetadata meta)
    {
        if (size == 0)
            return;
        if (offset >= (ulong)file.Length)
        {
            meta.Problems.Add((file.Error(entryAt, $"CPU {cpu} data at {offset} starts beyond the end of the file ({file.Length} bytes)"), 0));
            return;
        }
        if (size > (ulong)file.Length - offset)
        {
            ulong kept = (ulong)file.Length - offset;
            // Nothing is skipped: the missing bytes are not in the file (and the size itself may be the damage).
            meta.Problems.Add((file.Error(file.Length, $"CPU {cpu} data ({size} bytes at {offset}) is cut by the end of the file: {size - kept} bytes missing"), 0));
            size = kept;
        }
        table.Add(new TraceDatCpuData(cpu, (long)offset, (long)size));
    }

    // ---------------------------------------------------------------- version 7

    private static void ReadVersion7(TraceDatFileReader file, TraceDatMetadata meta)
    {
        meta.CompressionName = file.ReadCString(64);
        meta.CompressionVersion = file.ReadCString(64);
        using var compression = meta.CompressionName == "none" ? null : TraceDatCompression.Create(meta.CompressionName)
            ?? throw file.Error(file.Position, $"compression '{meta.CompressionName}' is not supported (zlib, zstd and none are)");

        long optionsOffset = (long)file.ReadU64();
        var visited = new HashSet<long>();
        var sectionOffsets = new Dictionary<TraceDatOption, long>();
        var bufferOptions = new List<(byte[] Data, long At)>();
        while (optionsOffset != 0)
        {
            if (!visited.Add(optionsOffset) || visited.Count > MaxOptionSections)
            {
                meta.Problems.Add((file.Error(optionsOffset, "options sections loop back"), 0));
                break;
            }
            byte[] section;
            try
            {
                section = ReadSection(file, optionsOffset, TraceDatOption.Done, compression);
            }
            catch (TraceFormatException ex) when (visited.Count > 1)
            {
                meta.Problems.Add((ex, 0));
                break;
            }
            try
            {
                optionsOffset = ParseOptionsSection(section, optionsOffset + SectionHeaderSize, meta, sectionOffsets, bufferOptions, file.Path);
            }
            catch (TraceFormatException ex)
            {
                // Keep the options read before the damage; the chain cannot be followed further.
                meta.Problems.Add((ex, 0));
                break;
            }
        }

        if (!sectionOffsets.TryGetValue(TraceDatOption.HeaderInfo, out long headerAt))
            throw file.Error(0, "no HEADER_INFO section");
        ReadHeaderInfo(SectionReader(file, headerAt, TraceDatOption.HeaderInfo, compression), meta);
        if (!sectionOffsets.TryGetValue(TraceDatOption.EventFormats, out long eventsAt))
            throw file.Error(0, "no EVENT_FORMATS section");
        // Sections are located by offset: damage in one need not stop the others. Formats read before the
        // damage are kept; events of the lost ones are delivered as unknown events.
        if (sectionOffsets.TryGetValue(TraceDatOption.FtraceEvents, out long ftraceAt))
            ReadOptional(meta, () => ReadFtraceFormats(SectionReader(file, ftraceAt, TraceDatOption.FtraceEvents, compression), meta));
        ReadOptional(meta, () => ReadEventFormats(SectionReader(file, eventsAt, TraceDatOption.EventFormats, compression), meta));
        if (meta.Formats.Count == 0)
            throw meta.Problems.Count > 0 ? meta.Problems[^1].Error : file.Error(eventsAt, "no event formats");
        if (sectionOffsets.TryGetValue(TraceDatOption.Cmdlines, out long cmdlinesAt))
        {
            try
            {
                var r = SectionReader(file, cmdlinesAt, TraceDatOption.Cmdlines, compression);
                ParseCmdlines(r.ReadBlock(r.ReadU64(), "saved command lines"), meta);
            }
            catch (TraceFormatException ex)
            {
                meta.Problems.Add((ex, 0));
            }
        }

        foreach (var (data, at) in bufferOptions)
        {
            try
            {
                meta.Buffers.Add(ParseV7Buffer(file, data, at, meta));
            }
            catch (TraceFormatException ex)
            {
                meta.Problems.Add((ex, 0));
            }
        }
    }

    private static void ReadOptional(TraceDatMetadata meta, Action read)
    {
        try
        {
            read();
        }
        catch (TraceFormatException ex)
        {
            meta.Problems.Add((ex, 0));
        }
    }

    private static long ParseOptionsSection(byte[] section, long fileOffset, TraceDatMetadata meta,
        Dictionary<TraceDatOption, long> sectionOffsets, List<(byte[], long)> bufferOptions, string path)
    {
        var r = new MetadataSpanReader(section, path, fileOffset, meta.BigEndian);
        while (r.Remaining >= 6)
        {
            long optionAt = r.FileOffset;
            ushort id = r.ReadU16();
            uint size = r.ReadU32();
            var data = r.Take(size, $"option {id}");
            if (id == (ushort)TraceDatOption.Done)
                return size >= 8 ? (long)new MetadataSpanReader(data, path, optionAt + 6, meta.BigEndian).ReadU64() : 0;
            try
            {
                switch ((TraceDatOption)id)
                {
                    case TraceDatOption.HeaderInfo or TraceDatOption.FtraceEvents or TraceDatOption.EventFormats
                        or TraceDatOption.Kallsyms or TraceDatOption.Printk or TraceDatOption.Cmdlines:
                        sectionOffsets[(TraceDatOption)id] = (long)new MetadataSpanReader(data, path, optionAt + 6, meta.BigEndian).ReadU64();
                        break;
                    case TraceDatOption.Buffer:
                        bufferOptions.Add((data.ToArray(), optionAt + 6));
                        break;
                    default:
                        ApplyOption(id, data, optionAt + 6, meta);
                        break;
                }
            }
            catch (TraceFormatException ex)
            {
                meta.Problems.Add((ex, size));
            }
        }
        return 0;
    }

    private static TraceDatBuffer ParseV7Buffer(TraceDatFileReader file, byte[] data, long at, TraceDatMetadata meta)
    {
        var r = new MetadataSpanReader(data, file.Path, at, meta.BigEndian);
        long sectionOffset = (long)r.ReadU64();
        string name = r.ReadCString();
        string clock = r.ReadCString();
        uint pageSize = r.ReadU32();
        long countAt = r.FileOffset;
        uint count = r.ReadU32();
        if ((ulong)count * 20 > (ulong)r.Remaining)
            throw file.Error(countAt, $"buffer '{name}' lists {count} CPUs but the option holds only {r.Remaining} bytes");
        if (pageSize != meta.PageSize)
            throw file.Error(at, $"buffer '{name}' page size {pageSize} differs from the file's {meta.PageSize}");

        bool compressed = false;
        if (sectionOffset > 0 && sectionOffset + SectionHeaderSize <= file.Length)
        {
            file.Position = sectionOffset;
            file.ReadU16();
            compressed = (file.ReadU16() & 1) != 0;
        }
        var cpus = new List<TraceDatCpuData>((int)count);
        for (int i = 0; i < count; i++)
        {
            long entryAt = r.FileOffset;
            int cpu = (int)r.ReadU32();
            ulong offset = r.ReadU64();
            ulong size = r.ReadU64();
            AddCpuData(cpus, cpu, offset, size, entryAt, file, meta);
        }
        return new TraceDatBuffer(name, clock, (int)pageSize, compressed, cpus);
    }

    private static SectionBytes SectionReader(TraceDatFileReader file, long offset, TraceDatOption expected, TraceDatCompression? compression) =>
        new(ReadSection(file, offset, expected, compression), file.Path, offset + SectionHeaderSize, file.BigEndian);

    /// <summary>Reads a v7 section's content (decompressed when flagged), checking its id and size.</summary>
    private static byte[] ReadSection(TraceDatFileReader file, long offset, TraceDatOption expected, TraceDatCompression? compression)
    {
        if (offset <= 0 || offset > file.Length - SectionHeaderSize)
            throw file.Error(offset, $"section {expected} offset {offset} is outside the file");
        file.Position = offset;
        ushort id = file.ReadU16();
        ushort flags = file.ReadU16();
        file.ReadU32(); // description string id
        ulong size = file.ReadU64();
        if (id != (ushort)expected)
            throw file.Error(offset, $"expected section {expected} ({(ushort)expected}), found id {id}");
        byte[] raw = file.ReadBlock(size, $"section {expected}");
        if ((flags & 1) == 0)
            return raw;
        if (compression is null)
            throw file.Error(offset, $"section {expected} is flagged compressed in an uncompressed file");
        if (raw.Length < 8)
            throw file.Error(offset + SectionHeaderSize, "compressed section shorter than its 8-byte header");
        var r = new MetadataSpanReader(raw, file.Path, offset + SectionHeaderSize, file.BigEndian);
        uint compressedSize = r.ReadU32();
        uint plainSize = r.ReadU32();
        if (compressedSize > raw.Length - 8)
            throw file.Error(offset + SectionHeaderSize, $"compressed size {compressedSize} exceeds the section's {raw.Length - 8} bytes");
        if (plainSize > MaxSectionUncompressed || plainSize > (ulong)compressedSize * 65536 + 65536)
            throw file.Error(offset + SectionHeaderSize + 4, $"implausible uncompressed size {plainSize} for {compressedSize} compressed bytes");
        var plain = new byte[plainSize];
        int written;
        try
        {
            var payload = new byte[compressedSize];
            Array.Copy(raw, 8, payload, 0, compressedSize);
            written = compression.Decompress(payload, (int)compressedSize, plain);
        }
        catch (InvalidDataException ex)
        {
            throw new TraceFormatException(file.Path, offset + SectionHeaderSize + 8, $"cannot decompress section {expected}: {ex.Message}", ex);
        }
        if (written != plainSize)
            throw file.Error(offset + SectionHeaderSize + 8, $"section {expected} decompressed to {written} bytes, expected {plainSize}");
        return plain;
    }

    // ---------------------------------------------------------------- shared parts

    /// <summary>Reads from a file (v6) or a section held in memory (v7) with the same calls.</summary>
    private interface IMetadataSource
    {
        uint ReadU32();
        ulong ReadU64();
        string ReadCString();
        byte[] ReadBlock(ulong size, string what);
        long Position { get; }
        TraceFormatException Error(long offset, string problem);
    }

    private sealed class SectionBytes(byte[] data, string path, long baseOffset, bool bigEndian) : IMetadataSource
    {
        private int _position;

        public long Position => baseOffset + _position;

        public uint ReadU32()
        {
            var r = Reader();
            uint v = r.ReadU32();
            _position += r.Position;
            return v;
        }

        public ulong ReadU64()
        {
            var r = Reader();
            ulong v = r.ReadU64();
            _position += r.Position;
            return v;
        }

        public string ReadCString()
        {
            var r = Reader();
            string s = r.ReadCString();
            _position += r.Position;
            return s;
        }

        public byte[] ReadBlock(ulong size, string what)
        {
            var r = Reader();
            byte[] block = r.Take(size, what).ToArray();
            _position += r.Position;
            return block;
        }

        public TraceFormatException Error(long offset, string problem) => new(path, offset, problem);

        private MetadataSpanReader Reader() => new(data.AsSpan(_position), path, Position, bigEndian);
    }

    private sealed class FileSource(TraceDatFileReader file) : IMetadataSource
    {
        public long Position => file.Position;
        public uint ReadU32() => file.ReadU32();
        public ulong ReadU64() => file.ReadU64();
        public string ReadCString() => file.ReadCString();
        public byte[] ReadBlock(ulong size, string what) => file.ReadBlock(size, what);
        public TraceFormatException Error(long offset, string problem) => file.Error(offset, problem);
    }

    private static void ReadHeaderInfo(TraceDatFileReader file, TraceDatMetadata meta) => ReadHeaderInfo(new FileSource(file), meta);
    private static void ReadFtraceFormats(TraceDatFileReader file, TraceDatMetadata meta) => ReadFtraceFormats(new FileSource(file), meta);
    private static void ReadEventFormats(TraceDatFileReader file, TraceDatMetadata meta) => ReadEventFormats(new FileSource(file), meta);

    private static void ReadHeaderInfo(IMetadataSource r, TraceDatMetadata meta)
    {
        long at = r.Position;
        string name = r.ReadCString();
        if (name != "header_page")
            throw r.Error(at, $"expected 'header_page', found '{Printable(name)}'");
        string headerPage = Encoding.UTF8.GetString(r.ReadBlock(r.ReadU64(), "header_page"));
        at = r.Position;
        name = r.ReadCString();
        if (name != "header_event")
            throw r.Error(at, $"expected 'header_event', found '{Printable(name)}'");
        r.ReadBlock(r.ReadU64(), "header_event"); // fixed since 2.6.x kernels: type_len 5 bits, time_delta 27 bits
        try
        {
            meta.PageLayout = RingBufferPageLayout.FromHeaderPage(headerPage, meta.PageSize, meta.BigEndian);
        }
        catch (FormatException ex)
        {
            throw r.Error(at, ex.Message);
        }
    }

    private static void ReadFtraceFormats(IMetadataSource r, TraceDatMetadata meta)
    {
        long at = r.Position;
        uint count = r.ReadU32();
        if (count > 100_000)
            throw r.Error(at, $"implausible ftrace format count {count}");
        for (int i = 0; i < count; i++)
            AddFormat("ftrace", r.ReadBlock(r.ReadU64(), "ftrace event format"), meta);
    }

    private static void ReadEventFormats(IMetadataSource r, TraceDatMetadata meta)
    {
        long at = r.Position;
        uint systems = r.ReadU32();
        if (systems > 100_000)
            throw r.Error(at, $"implausible event system count {systems}");
        for (int s = 0; s < systems; s++)
        {
            string system = r.ReadCString();
            at = r.Position;
            uint count = r.ReadU32();
            if (count > 100_000)
                throw r.Error(at, $"implausible event count {count} in system '{Printable(system)}'");
            for (int i = 0; i < count; i++)
                AddFormat(system, r.ReadBlock(r.ReadU64(), "event format"), meta);
        }
    }

    private static void AddFormat(string system, byte[] text, TraceDatMetadata meta)
    {
        var format = FtraceFormatParser.ParseEvent(system, Encoding.UTF8.GetString(text), meta.PageLayout.CommitSize);
        if (format is not null)
            meta.Formats.Add(format);
    }

    private static void ParseCmdlines(byte[] data, TraceDatMetadata meta)
    {
        foreach (var line in Encoding.UTF8.GetString(data).Split('\n'))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && int.TryParse(line.AsSpan(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid))
                meta.Cmdlines[pid] = line[(space + 1)..].TrimEnd('\r');
        }
    }

    /// <summary>Options whose payload is the same in versions 6 and 7.</summary>
    private static void ApplyOption(ushort id, ReadOnlySpan<byte> data, long at, TraceDatMetadata meta)
    {
        var r = new MetadataSpanReader(data, meta.Path, at, meta.BigEndian);
        switch ((TraceDatOption)id)
        {
            case TraceDatOption.TraceClock:
                meta.TraceClock = SelectedClock(r.ReadRestAsText());
                break;
            case TraceDatOption.Uname:
                meta.Uname = r.ReadRestAsText();
                break;
            case TraceDatOption.Version:
                meta.TracerVersion = r.ReadRestAsText();
                break;
            case TraceDatOption.CpuCount:
                meta.CpuCount = (int)Math.Min(r.ReadU32(), 65536);
                break;
            case TraceDatOption.TraceId:
                meta.TraceId = r.ReadU64();
                break;
            case TraceDatOption.Offset:
                meta.TimeOffset += ParseCNumber(r.ReadRestAsText(), meta.Path, at);
                break;
            case TraceDatOption.Date:
                // trace-cmd writes the clock-to-gettimeofday offset in microseconds (its reader multiplies by 1000).
                meta.TimeOffset += ParseCNumber(r.ReadRestAsText(), meta.Path, at) * 1000;
                meta.HasDate = true;
                break;
            case TraceDatOption.Tsc2Nsec:
                meta.Tsc2Nsec = new TscConversion(r.ReadU32(), r.ReadU32(), r.ReadU64());
                if (meta.Tsc2Nsec.Shift >= 64)
                    throw new TraceFormatException(meta.Path, at, $"TSC2NSEC shift {meta.Tsc2Nsec.Shift} is not below 64");
                break;
            case TraceDatOption.Guest:
                meta.Guests.Add(ParseGuest(ref r, meta.Path));
                break;
            case TraceDatOption.TimeShift:
                meta.TimeShift = ParseTimeShift(ref r, meta.Path);
                break;
        }
    }

    private static string SelectedClock(string text)
    {
        int open = text.IndexOf('[', StringComparison.Ordinal);
        int close = open >= 0 ? text.IndexOf(']', open) : -1;
        return open >= 0 && close > open ? text[(open + 1)..close] : text.Trim();
    }

    private static long ParseCNumber(string text, string path, long at)
    {
        text = text.Trim();
        bool negative = text.StartsWith('-');
        if (negative)
            text = text[1..];
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long value)
            : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
        if (!ok)
            throw new TraceFormatException(path, at, $"time offset '{Printable(text)}' is not a number");
        return negative ? -value : value;
    }

    private static TraceDatGuest ParseGuest(ref MetadataSpanReader r, string path)
    {
        string name = r.ReadCString();
        ulong traceId = r.ReadU64();
        long countAt = r.FileOffset;
        uint cpus = r.ReadU32();
        if ((ulong)cpus * 8 > (ulong)r.Remaining)
            throw new TraceFormatException(path, countAt, $"guest '{Printable(name)}' lists {cpus} CPUs but the option holds only {r.Remaining} bytes");
        var map = new Dictionary<int, int>();
        for (int i = 0; i < cpus; i++)
        {
            int cpu = (int)r.ReadU32();
            map[cpu] = (int)r.ReadU32();
        }
        return new TraceDatGuest(name, traceId, map);
    }

    private static TimeShift ParseTimeShift(ref MetadataSpanReader r, string path)
    {
        ulong peer = r.ReadU64();
        uint flags = r.ReadU32();
        long countAt = r.FileOffset;
        uint cpus = r.ReadU32();
        if ((ulong)cpus * 4 > (ulong)r.Remaining)
            throw new TraceFormatException(path, countAt, $"TIME_SHIFT lists {cpus} CPUs but holds only {r.Remaining} bytes");
        var samples = new TimeShiftSample[cpus][];
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            long at = r.FileOffset;
            uint count = r.ReadU32();
            if ((ulong)count * 24 > (ulong)r.Remaining)
                throw new TraceFormatException(path, at, $"TIME_SHIFT CPU {cpu} lists {count} samples but holds only {r.Remaining} bytes");
            var times = new ulong[count];
            var offsets = new long[count];
            var scalings = new ulong[count];
            for (int i = 0; i < count; i++) times[i] = r.ReadU64();
            for (int i = 0; i < count; i++) offsets[i] = (long)r.ReadU64();
            for (int i = 0; i < count; i++) scalings[i] = r.ReadU64();
            samples[cpu] = new TimeShiftSample[count];
            for (int i = 0; i < count; i++)
                samples[cpu][i] = new TimeShiftSample(times[i], offsets[i], scalings[i], 0);
        }
        // Newer writers append the fraction (shift) of every sample after all CPUs.
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            var list = samples[cpu];
            if ((ulong)list.Length * 8 > (ulong)r.Remaining)
                break;
            for (int i = 0; i < list.Length; i++)
                list[i] = list[i] with { Fraction = (int)Math.Min(r.ReadU64(), 63) };
        }
        foreach (var list in samples)
            Array.Sort(list, (a, b) => a.Time.CompareTo(b.Time));
        return new TimeShift(peer, flags, samples);
    }

    private static string Printable(string s) =>
        new(s.Take(40).Select(c => c is >= ' ' and < (char)127 ? c : '?').ToArray());
}
