namespace Vmtrace.Wire;

/// <summary>A record of a schema version this reader does not understand (an agent newer or older than the worker).</summary>
public sealed class WireVersionException : WireFormatException
{
    public WireVersionException(long offset, uint version)
        : base(offset, $"schema version {version} is not supported (this reader understands versions {WireSchema.FirstVersion} to {WireSchema.Version}); upgrade the worker or pin the agent")
    {
        Version = version;
    }

    public WireVersionException()
        : this(-1, 0)
    {
    }

    public WireVersionException(string message)
        : base(message)
    {
    }

    public WireVersionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public uint Version { get; }
}
