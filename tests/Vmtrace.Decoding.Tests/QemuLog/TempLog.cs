using System.Text;

namespace Vmtrace.Decoding.Tests.QemuLog;

/// <summary>A throwaway qemu log file written by a test, deleted on dispose.</summary>
internal sealed class TempLog : IDisposable
{
    public TempLog(string content)
        : this(Encoding.UTF8.GetBytes(content))
    {
    }

    public TempLog(byte[] content)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vmtrace-qemulog-" + Guid.NewGuid().ToString("N") + ".log");
        File.WriteAllBytes(Path, content);
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
