using Microsoft.Win32.SafeHandles;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Hands out the ring-buffer pages of one CPU of a trace.dat, one at a time, from a reusable buffer.
/// Damage is recorded in the diagnostics and reading goes on where the format allows.
/// </summary>
internal abstract class CpuPageSource : RingBufferPageSource
{
    protected CpuPageSource(string path, SafeFileHandle file, TraceDatCpuData data, int pageSize, SourceDiagnostics diagnostics)
    {
        Path = path;
        File = file;
        Data = data;
        PageSize = pageSize;
        Diagnostics = diagnostics;
    }

    protected string Path { get; }
    protected SafeFileHandle File { get; }
    protected TraceDatCpuData Data { get; }
    protected int PageSize { get; }
    protected SourceDiagnostics Diagnostics { get; }
    /// <summary>File offset of the current page, or of its compressed chunk.</summary>
    public long CurrentPageFileOffset { get; protected set; }

    /// <summary>True when <see cref="CurrentPageFileOffset"/> is the start of a compressed chunk, not of the page.</summary>
    public bool CurrentPageIsInChunk { get; protected set; }

    /// <summary>Bytes of this CPU's range consumed so far.</summary>
    public long Consumed { get; protected set; }

    public override (long Offset, string Note) Locate(int pageOffset) => CurrentPageIsInChunk
        ? (CurrentPageFileOffset, $" (compressed chunk; page offset {pageOffset})")
        : (CurrentPageFileOffset + pageOffset, "");

    public static CpuPageSource Create(string path, SafeFileHandle file, TraceDatCpuData data, int pageSize, TraceDatCompression? compression,
        bool bigEndian, SourceDiagnostics diagnostics) =>
        compression is null
            ? new UncompressedCpuPages(path, file, data, pageSize, diagnostics)
            : new CompressedCpuPages(path, file, data, pageSize, compression, bigEndian, diagnostics);

    /// <summary>Reads as much as the file gives at <paramref name="offset"/>; returns the bytes read.</summary>
    protected int ReadAt(long offset, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(File, destination[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}

/// <summary>Pages stored as they are (version 6, or version 7 "none"): read a block of pages at a time.</summary>
internal sealed class UncompressedCpuPages : CpuPageSource
{
    private const int PagesPerRead = 16;
    private long _blockFileOffset;
    private int _blockLength;
    private int _nextInBlock;
    private bool _exhausted;

    public UncompressedCpuPages(string path, SafeFileHandle file, TraceDatCpuData data, int pageSize, SourceDiagnostics diagnostics)
        : base(path, file, data, pageSize, diagnostics)
    {
        Buffer = new byte[pageSize * PagesPerRead];
        _blockFileOffset = data.Offset;
    }

    public override bool MoveNextPage()
    {
        if (_nextInBlock >= _blockLength)
        {
            long start = _blockFileOffset + _blockLength;
            long left = Data.Offset + Data.Size - start;
            if (left <= 0)
                return false;
            int want = (int)Math.Min(left, Buffer.Length);
            int got = _exhausted ? 0 : ReadAt(start, Buffer.AsSpan(0, want));
            if (got < want && !_exhausted)
            {
                // The file ends inside this CPU's range: keep what is there, count the rest as skipped.
                _exhausted = true;
                Diagnostics.AddError(new TraceFormatException(Path, start + got, $"CPU {Data.Cpu} data ends early: the file has {got} of {want} bytes here"),
                    left - got);
            }
            if (got == 0)
            {
                Consumed = Data.Size;
                return false;
            }
            _blockFileOffset = start;
            _blockLength = got;
            _nextInBlock = 0;
        }
        PageStart = _nextInBlock;
        PageLength = Math.Min(PageSize, _blockLength - _nextInBlock);
        _nextInBlock += PageLength;
        CurrentPageFileOffset = _blockFileOffset + PageStart;
        Consumed = Math.Max(Consumed, CurrentPageFileOffset + PageLength - Data.Offset);
        return true;
    }
}

/// <summary>
/// Version 7 compressed per-CPU data: a u32 chunk count, then chunks of (u32 compressed size, u32 plain
/// size, frame), each holding whole pages. One chunk is decompressed at a time.
/// </summary>
internal sealed class CompressedCpuPages : CpuPageSource
{
    // trace-cmd writes chunks of about 10 pages; anything above this is a bogus size, not a big chunk.
    private const int MaxChunkBytes = 64 << 20;
    private readonly TraceDatCompression _compression;
    private readonly bool _bigEndian;
    private readonly long _fileLength;
    private byte[] _compressed = new byte[4096];
    private long _position;
    private long _chunksLeft;
    private int _plainLength;
    private int _nextPage;
    private long _chunkFileOffset;
    private bool _started;

    public CompressedCpuPages(string path, SafeFileHandle file, TraceDatCpuData data, int pageSize, TraceDatCompression compression,
        bool bigEndian, SourceDiagnostics diagnostics)
        : base(path, file, data, pageSize, diagnostics)
    {
        _compression = compression;
        _bigEndian = bigEndian;
        _fileLength = RandomAccess.GetLength(file);
        Buffer = new byte[pageSize * 16];
        CurrentPageIsInChunk = true;
    }

    // trace-cmd 3.1's convert writes a size that leaves out the 4-byte chunk count (3.2's record counts it):
    // allow those 4 bytes past the stated end, within the file.
    private const int ChunkCountSlack = 4;

    private long End => Math.Min(Data.Offset + Data.Size + ChunkCountSlack, _fileLength);

    public override bool MoveNextPage()
    {
        if (!_started)
        {
            _started = true;
            if (!ReadChunkCount())
                return false;
        }
        while (_nextPage >= _plainLength)
        {
            if (!LoadNextChunk())
            {
                Consumed = Data.Size;
                return false;
            }
        }
        PageStart = _nextPage;
        PageLength = Math.Min(PageSize, _plainLength - _nextPage);
        _nextPage += PageLength;
        CurrentPageFileOffset = _chunkFileOffset;
        return true;
    }

    private bool ReadChunkCount()
    {
        Span<byte> header = stackalloc byte[4];
        if (Data.Size < 4 || ReadAt(Data.Offset, header) < 4)
        {
            Skip(Data.Offset, Data.Size, $"CPU {Data.Cpu} compressed data is shorter than its chunk count");
            return false;
        }
        _chunksLeft = ReadU32(header);
        _position = Data.Offset + 4;
        if (_chunksLeft * 8 > End - _position)
        {
            // Not fatal: read chunks while their headers fit.
            Diagnostics.AddError(new TraceFormatException(Path, Data.Offset,
                $"CPU {Data.Cpu} claims {_chunksLeft} compressed chunks, more than its {Data.Size} bytes can hold"), 0);
            _chunksLeft = (End - _position) / 8;
        }
        return true;
    }

    private bool LoadNextChunk()
    {
        Span<byte> header = stackalloc byte[8];
        while (_chunksLeft > 0)
        {
            _chunksLeft--;
            _chunkFileOffset = _position;
            Consumed = Math.Min(_position - Data.Offset, Data.Size);
            if (End - _position < 8 || ReadAt(_position, header) < 8)
            {
                Skip(_position, End - _position, $"CPU {Data.Cpu} chunk header cut by the end of the data");
                return false;
            }
            uint compressedSize = ReadU32(header);
            uint plainSize = ReadU32(header[4..]);
            long frameAt = _position + 8;
            if (compressedSize > End - frameAt)
            {
                if (frameAt + compressedSize > _fileLength && compressedSize <= MaxChunkBytes && plainSize is > 0 and <= MaxChunkBytes)
                    return LoadCutChunk(frameAt, compressedSize, plainSize);
                Skip(_position, End - _position, $"CPU {Data.Cpu} chunk of {compressedSize} compressed bytes runs past the end of the CPU data");
                return false;
            }
            _position = frameAt + compressedSize;
            if (plainSize == 0 || plainSize > MaxChunkBytes || compressedSize > MaxChunkBytes)
            {
                Skip(_chunkFileOffset, 8 + compressedSize, $"CPU {Data.Cpu} chunk has an implausible size ({compressedSize} → {plainSize} bytes)");
                continue;
            }
            if (_compressed.Length < compressedSize)
                _compressed = new byte[Math.Max(compressedSize, _compressed.Length * 2)];
            if (Buffer.Length < plainSize)
                Buffer = new byte[Math.Max(plainSize, Buffer.Length * 2)];
            if (ReadAt(frameAt, _compressed.AsSpan(0, (int)compressedSize)) < compressedSize)
            {
                Skip(_chunkFileOffset, End - _chunkFileOffset, $"CPU {Data.Cpu} chunk cut by the end of the file");
                return false;
            }
            int written;
            try
            {
                written = _compression.Decompress(_compressed, (int)compressedSize, Buffer.AsSpan(0, (int)plainSize));
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                Skip(frameAt, compressedSize, $"CPU {Data.Cpu} chunk does not decompress ({_compression.Name}): {ex.Message}");
                continue;
            }
            if (written != plainSize)
                Diagnostics.AddError(new TraceFormatException(Path, frameAt,
                    $"CPU {Data.Cpu} chunk decompressed to {written} bytes, its header says {plainSize}"), Math.Max(0, plainSize - written));
            _plainLength = written;
            _nextPage = 0;
            if (written > 0)
                return true;
        }
        return false;
    }

    /// <summary>
    /// The last chunk of a file cut while it was written: what its present bytes decompress to is read (the
    /// whole pages, and the events of a cut page before the cut), the rest counted lost.
    /// </summary>
    private bool LoadCutChunk(long frameAt, uint compressedSize, uint plainSize)
    {
        _chunksLeft = 0;
        int present = (int)(_fileLength - frameAt);
        if (_compressed.Length < present)
            _compressed = new byte[present];
        if (Buffer.Length < plainSize)
            Buffer = new byte[plainSize];
        int got = ReadAt(frameAt, _compressed.AsSpan(0, present));
        int written = _compression.DecompressPrefix(_compressed, got, Buffer.AsSpan(0, (int)plainSize));
        Diagnostics.AddError(new TraceFormatException(Path, _fileLength,
            $"CPU {Data.Cpu}: the file ends inside a compressed chunk ({got} of its {compressedSize} bytes, from byte {frameAt}): " +
            $"{written} of its {plainSize} bytes are read"), plainSize - written);
        _position = _fileLength;
        _plainLength = written;
        _nextPage = 0;
        return written > 0;
    }

    private void Skip(long at, long bytes, string problem) =>
        Diagnostics.AddError(new TraceFormatException(Path, at, problem), Math.Max(0, bytes));

    private uint ReadU32(ReadOnlySpan<byte> bytes) => _bigEndian
        ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes)
        : System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
}
