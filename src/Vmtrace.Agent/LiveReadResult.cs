namespace Vmtrace.Agent;

/// <summary>What a live source's <c>TryMoveNext</c> produced.</summary>
public enum LiveReadResult
{
    /// <summary>An event is current.</summary>
    Event,
    /// <summary>No event could be released within the wait (the caller may flush, send heartbeats, then call again).</summary>
    Idle,
    /// <summary>The source was stopped and everything it had has been delivered.</summary>
    End,
}
