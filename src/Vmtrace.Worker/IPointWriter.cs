namespace Vmtrace.Worker;

/// <summary>Where points go. Completes only once every point is acknowledged (stored, or rejected and dead-lettered by the sink); throws when they could not be.</summary>
public interface IPointWriter
{
    Task WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);
}
