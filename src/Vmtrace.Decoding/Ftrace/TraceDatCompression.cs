using System.IO.Compression;
using ZstdSharp;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// The compression of a version 7 trace.dat ("none", "zlib" or "zstd"): each compressed section and each
/// chunk of per-CPU data is one independent zlib or zstd frame.
/// </summary>
public abstract class TraceDatCompression : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Decompresses one frame into <paramref name="destination"/>; returns the bytes written. Throws InvalidDataException when the frame is damaged.</summary>
    public abstract int Decompress(byte[] source, int sourceLength, Span<byte> destination);

    /// <summary>
    /// Decompresses what a frame cut short holds (the start of its data) into <paramref name="destination"/>;
    /// returns the bytes written, 0 when nothing could be recovered. Never throws for damaged data.
    /// </summary>
    public int DecompressPrefix(byte[] source, int sourceLength, Span<byte> destination)
    {
        using var input = new MemoryStream(source, 0, sourceLength, writable: false);
        using var plain = OpenDecompressionStream(input);
        int total = 0;
        try
        {
            while (total < destination.Length)
            {
                int n = plain.Read(destination[total..]);
                if (n == 0)
                    break;
                total += n;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or ZstdException)
        {
            // The frame ends here: what was written before is good.
        }
        return total;
    }

    /// <summary>A stream decompressing <paramref name="input"/> as far as it goes.</summary>
    protected abstract Stream OpenDecompressionStream(Stream input);

    /// <summary>The algorithm named in the file header, or null when vmtrace does not know it.</summary>
    public static TraceDatCompression? Create(string name) => name switch
    {
        "zlib" => new ZlibCompression(),
        "zstd" => new ZstdCompression(),
        _ => null,
    };

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    private sealed class ZlibCompression : TraceDatCompression
    {
        public override string Name => "zlib";

        // ZLibStream has no reset: one per frame (per chunk of many pages, not per event).
        public override int Decompress(byte[] source, int sourceLength, Span<byte> destination)
        {
            using var input = new MemoryStream(source, 0, sourceLength, writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            int total = 0;
            while (total < destination.Length)
            {
                int n = zlib.Read(destination[total..]);
                if (n == 0)
                    break;
                total += n;
            }
            return total;
        }

        protected override Stream OpenDecompressionStream(Stream input) => new ZLibStream(input, CompressionMode.Decompress);
    }

    private sealed class ZstdCompression : TraceDatCompression
    {
        private readonly Decompressor _decompressor = new();

        public override string Name => "zstd";

        public override int Decompress(byte[] source, int sourceLength, Span<byte> destination)
        {
            try
            {
                return _decompressor.Unwrap(source.AsSpan(0, sourceLength), destination);
            }
            catch (ZstdException ex)
            {
                throw new InvalidDataException(ex.Message, ex);
            }
        }

        protected override Stream OpenDecompressionStream(Stream input) => new DecompressionStream(input);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _decompressor.Dispose();
        }
    }
}
