namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>tracefs could not be used: the message names the file and what to do (run as root, mount tracefs…).</summary>
public sealed class TracefsException : Exception
{
    public TracefsException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>Wraps an I/O failure on <paramref name="path"/> with a message that says what was being done.</summary>
    public static TracefsException For(string doing, string path, Exception ex) => ex switch
    {
        UnauthorizedAccessException => new TracefsException(
            $"{(Environment.UserName == "root" ? "permission denied" : "not root")}: cannot {doing} {path}: permission denied (the agent needs root, or CAP_SYS_ADMIN with tracefs access)", ex),
        DirectoryNotFoundException or FileNotFoundException => new TracefsException($"cannot {doing} {path}: it does not exist", ex),
        _ => new TracefsException($"cannot {doing} {path}: {ex.Message}", ex),
    };
}
