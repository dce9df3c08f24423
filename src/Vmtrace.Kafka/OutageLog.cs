using Microsoft.Extensions.Logging;

namespace Vmtrace.Kafka;

/// <summary>
/// Logs a <see cref="DependencyOutage"/>: one warning when the dependency goes down, a summary while it stays down
/// (how long, how many failures, what is held back meanwhile), one line when it is back. Nothing else, however many
/// errors the client reports.
/// </summary>
public sealed partial class OutageLog(string dependency, DependencyOutage outage, ILogger logger)
{
    public DependencyOutage Outage => outage;

    /// <param name="heldBack">What waits meanwhile, for the summary (e.g. "1,234 records buffered").</param>
    public void Failed(string error, Func<string> heldBack)
    {
        ArgumentNullException.ThrowIfNull(heldBack);
        switch (outage.Failed(error))
        {
            case OutageReport.WentDown:
                LogDown(logger, dependency, error);
                break;
            case OutageReport.StillDown:
                LogStillDown(logger, dependency, outage.DownFor, outage.Failures, heldBack(), error);
                break;
            default:
                break;
        }
    }

    /// <summary>Periodic check while nothing new failed: the summary when due.</summary>
    public void Tick(Func<string> heldBack)
    {
        ArgumentNullException.ThrowIfNull(heldBack);
        if (outage.Tick() == OutageReport.StillDown)
            LogStillDown(logger, dependency, outage.DownFor, outage.Failures, heldBack(), outage.LastError);
    }

    public void Succeeded()
    {
        long failures = outage.Failures;
        if (outage.Succeeded(out var downFor))
            LogBack(logger, dependency, downFor, failures);
    }

    [LoggerMessage(101, LogLevel.Warning, "{Dependency} unreachable: {Error}")]
    private static partial void LogDown(ILogger logger, string dependency, string error);

    [LoggerMessage(102, LogLevel.Warning, "{Dependency} still unreachable after {DownFor}: {Failures} failure(s), {HeldBack}; last error: {Error}")]
    private static partial void LogStillDown(ILogger logger, string dependency, TimeSpan downFor, long failures, string heldBack, string error);

    [LoggerMessage(103, LogLevel.Information, "{Dependency} reachable again after {DownFor} ({Failures} failure(s))")]
    private static partial void LogBack(ILogger logger, string dependency, TimeSpan downFor, long failures);
}
