using System.Formats.Tar;
using SharpCompress.Compressors.Xz;

namespace Vmtrace.Decoding.Archives;

/// <summary>
/// Unpacks compressed inputs (<c>.xz</c>, <c>.tar</c>, <c>.tar.xz</c>) into a private temporary
/// directory, because trace.dat and CTF readers need random access to their files.
/// </summary>
public static class Decompression
{
    public static bool IsXz(string path) => path.EndsWith(".xz", StringComparison.OrdinalIgnoreCase);

    public static bool IsTar(string path) =>
        path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tar.xz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".txz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Unpacks <paramref name="path"/> under <paramref name="tempDir"/>; returns the path of the file or directory to read.</summary>
    public static string Unpack(string path, TempDirectory tempDir)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream plain = IsXz(path) ? new XZStream(file) : file;
            string name = Path.GetFileName(path);
            if (IsTar(path))
            {
                string dest = Path.Combine(tempDir.Path, "unpacked");
                Directory.CreateDirectory(dest);
                TarFile.ExtractToDirectory(plain, dest, overwriteFiles: false);
                return dest;
            }
            string outName = name.EndsWith(".xz", StringComparison.OrdinalIgnoreCase) ? name[..^3] : name;
            string outPath = Path.Combine(tempDir.Path, outName);
            using (var output = File.Create(outPath))
                plain.CopyTo(output);
            return outPath;
        }
        catch (Exception ex) when (ex is not TraceFormatException and not OperationCanceledException)
        {
            throw new TraceFormatException(path, -1, $"cannot unpack: {ex.Message}", ex);
        }
    }
}

/// <summary>A directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vmtrace-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir is not worth failing a run for.
        }
    }
}
