using Vmtrace.Decoding;

namespace Vmtrace.Agent;

/// <summary>
/// What <see cref="AgentPipeline"/> needs of an <see cref="EventSource"/> that follows a running host (it lives
/// here, not in Vmtrace.Agent.Live, so the pipeline can use it without depending on the live sources): a read
/// that gives up after a wait instead of blocking, how far the source has got while nothing comes, and a stop
/// that drains instead of dropping.
/// </summary>
public interface ILiveEventSource
{
    /// <summary>Releases the next event (then <see cref="EventSource.Current"/>), waiting up to <paramref name="maxWait"/> for one.</summary>
    LiveReadResult TryMoveNext(TimeSpan maxWait);

    /// <summary>No event at or before this time (ns, the source's clock) is still to come.</summary>
    long Watermark { get; }

    /// <summary>Asks the source to deliver what it has, then return <see cref="LiveReadResult.End"/>. Thread-safe.</summary>
    void RequestStop();

    /// <summary>Diagnostics of the source and of everything it merges (lost events, errors) so far.</summary>
    SourceDiagnostics CollectDiagnostics();
}
