using Vmtrace.InfluxDb;

namespace Vmtrace.Worker;

/// <summary>Where points go. Completes only once every point is acknowledged (stored, or rejected and dead-lettered by the sink); throws when they could not be.</summary>
public interface IPointWriter
{
    /// <returns>How many were stored, rejected (dead-lettered) or dropped.</returns>
    Task<InfluxWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);
}
