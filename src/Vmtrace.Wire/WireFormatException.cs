namespace Vmtrace.Wire;

/// <summary>
/// A record that is not valid wire format: names the problem and the byte offset in the record where
/// decoding failed, so a bad record can be found and quarantined instead of crashing the worker.
/// </summary>
public class WireFormatException : Exception
{
    public WireFormatException(long offset, string problem)
        : base($"wire record: at byte {offset}: {problem}")
    {
        Offset = offset;
        Problem = problem;
    }

    public WireFormatException()
        : this(-1, "invalid wire record")
    {
    }

    public WireFormatException(string message)
        : this(-1, message)
    {
    }

    public WireFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
        Problem = message;
    }

    /// <summary>Byte offset in the record (the Kafka value), -1 when not known.</summary>
    public long Offset { get; }
    public string Problem { get; }
}
