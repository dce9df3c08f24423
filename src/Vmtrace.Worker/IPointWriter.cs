namespace Vmtrace.Worker;

/// <summary>Where points go. Completes only once every point is acknowledged (stored, or rejected and dead-lettered by the sink); throws when they could not be.</summary>
public interface IPointWriter
{
    /// <returns>How many were stored, rejected (dead-lettered or dropped unnamed) or dropped as older than the retention policy.</returns>
    Task<PointWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);
}

/// <summary>What became of the points of one write; they add up to the points written.</summary>
public readonly record struct PointWriteResult(int Stored, int Rejected, int DroppedByRetention);
