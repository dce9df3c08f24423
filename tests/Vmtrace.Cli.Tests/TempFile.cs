namespace Vmtrace.Cli.Tests;

/// <summary>A throwaway input file, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public TempFile(string content, string extension = ".log")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vmtrace-cli-" + Guid.NewGuid().ToString("N") + extension);
        File.WriteAllText(Path, content);
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
