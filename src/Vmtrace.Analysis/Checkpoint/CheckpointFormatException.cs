namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// A checkpoint that cannot be restored: damaged, cut short, or written by a build whose analysis state
/// has a different shape (a field added, removed or retyped). The message names what and where.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException()
    {
    }

    public CheckpointFormatException(string message)
        : base(message)
    {
    }

    public CheckpointFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
