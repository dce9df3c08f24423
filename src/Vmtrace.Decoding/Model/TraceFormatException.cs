namespace Vmtrace.Decoding;

/// <summary>
/// Bad input: names the file and the byte offset where decoding failed, so a user can find it.
/// </summary>
public sealed class TraceFormatException : Exception
{
    public TraceFormatException(string file, long offset, string problem, Exception? inner = null)
        : base($"{file}: at byte {offset}: {problem}", inner)
    {
        File = file;
        Offset = offset;
        Problem = problem;
    }

    public TraceFormatException()
        : this("?", -1, "unknown trace format error")
    {
    }

    public TraceFormatException(string message)
        : this("?", -1, message)
    {
    }

    public TraceFormatException(string message, Exception innerException)
        : this("?", -1, message, innerException)
    {
    }

    public string File { get; }
    public long Offset { get; }
    public string Problem { get; }
}
