namespace Vmtrace.Worker;

/// <summary>What became of one record: used, or unusable (to the dead-letter topic) with the reason.</summary>
internal readonly record struct RecordOutcome(bool Used, string? Reason = null, Exception? Error = null)
{
    public static RecordOutcome Ok => new(true);

    public static RecordOutcome Dead(string reason, Exception? error = null) => new(false, reason, error);
}
