namespace Vmtrace.Decoding.Ctf;

/// <summary>A TSDL <c>stream</c> block: the layouts shared by all packets and events of one stream class.</summary>
public sealed class CtfStreamClass
{
    public long Id { get; init; }
    public CtfStruct? PacketContext { get; init; }
    public CtfStruct? EventHeader { get; init; }
    public CtfStruct? EventContext { get; init; }
}
