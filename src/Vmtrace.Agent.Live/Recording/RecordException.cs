namespace Vmtrace.Agent.Live.Recording;

/// <summary>The recording could not be made or completed: the message says what and where, in one line.</summary>
public sealed class RecordException(string message, Exception? inner = null) : Exception(message, inner);
