using Vmtrace.Decoding.Archives;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.QemuLog;

/// <summary>
/// s3-disk-vs-cpu's qemu-vmD.log.xz unpacked once for a test class (xz decoding costs about a second),
/// into a temporary directory deleted afterwards. Null path when the corpus is missing.
/// </summary>
public sealed class UnpackedDiskLog : IDisposable
{
    private readonly TempDirectory? _temp;

    public UnpackedDiskLog()
    {
        if (Corpus.Root is null)
            return;
        _temp = new TempDirectory();
        Path = Decompression.Unpack(Corpus.Path("tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz"), _temp);
    }

    public string? Path { get; }

    public void Dispose() => _temp?.Dispose();
}
