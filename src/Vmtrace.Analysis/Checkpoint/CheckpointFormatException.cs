namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// A checkpoint that cannot be restored: not a checkpoint, of another format version (named), cut short, or
/// damaged. The message names what and where (the section, the byte).
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
