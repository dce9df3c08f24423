using Vmtrace.Decoding;

namespace Vmtrace.Wire;

/// <summary>An event type rebuilt from a batch's type table, with how each of its columns is encoded.</summary>
internal sealed class WireEventType(EventType type, ColumnEncoding[] encodings)
{
    public EventType Type { get; } = type;
    public ColumnEncoding[] Encodings { get; } = encodings;
}
