using System.Buffers;

namespace Vmtrace.Wire;

/// <summary>
/// The agent's side of one host's record stream: wraps each body (event batch, inventory, heartbeat) in
/// a <c>HostRecord</c> envelope with the schema version, host id, session and the next sequence number.
/// One per host and agent run; not thread-safe (records must be produced in sequence order anyway).
/// </summary>
public sealed class HostRecordWriter
{
    private readonly byte[] _prefix;
    private readonly byte[] _agentHealthPrefix;
    private readonly byte[] _guestsPrefix;
    private readonly ProtoBuffer _body = new();

    public HostRecordWriter(string hostId, string sessionId = "", ulong firstSequence = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostId);
        HostId = hostId;
        SessionId = sessionId ?? "";
        NextSequence = firstSequence;
        _prefix = Prefix(WireSchema.FirstVersion, hostId, SessionId);
        _agentHealthPrefix = Prefix(WireSchema.AgentHealthVersion, hostId, SessionId);
        _guestsPrefix = Prefix(WireSchema.GuestsVersion, hostId, SessionId);
    }

    // A record carries the lowest schema version that can read it (see events.proto).
    private static byte[] Prefix(uint version, string hostId, string sessionId)
    {
        var p = new ProtoBuffer();
        p.WriteVarintField(WireSchema.RecordVersion, version);
        p.WriteStringField(WireSchema.RecordHostId, hostId);
        p.WriteStringField(WireSchema.RecordSessionId, sessionId);
        return p.Written.ToArray();
    }

    private byte[] PrefixOf(int bodyField, bool guests) =>
        guests ? _guestsPrefix : bodyField == WireSchema.RecordAgentHealth ? _agentHealthPrefix : _prefix;

    /// <summary>Also the Kafka key of every record.</summary>
    public string HostId { get; }
    public string SessionId { get; }
    /// <summary>The sequence number the next record gets.</summary>
    public ulong NextSequence { get; private set; }

    /// <summary>A heartbeat: no event older than <paramref name="watermarkNs"/> will follow.</summary>
    public byte[] Heartbeat(long watermarkNs)
    {
        _body.Clear();
        _body.WriteSignedField(WireSchema.HeartbeatWatermark, watermarkNs);
        return Wrap(WireSchema.RecordHeartbeat, _body.Written);
    }

    public byte[] Inventory(WireInventory inventory)
    {
        _body.Clear();
        InventoryCodec.Encode(inventory, _body);
        return Wrap(WireSchema.RecordInventory, _body.Written, inventory.Guests.Count > 0);
    }

    /// <summary>The agent's counters (schema version 2).</summary>
    public byte[] AgentHealth(WireAgentHealth health)
    {
        _body.Clear();
        AgentHealthCodec.Encode(health, _body);
        return Wrap(WireSchema.RecordAgentHealth, _body.Written);
    }

    /// <param name="guests">The body carries guests (schema version 3).</param>
    internal byte[] Wrap(int bodyField, ReadOnlySpan<byte> body, bool guests = false)
    {
        var record = new byte[Size(bodyField, body.Length, guests)];
        int n = Write(bodyField, body, record, guests);
        return n == record.Length ? record : throw new InvalidOperationException("record size mismatch");
    }

    internal void Wrap(int bodyField, ReadOnlySpan<byte> body, IBufferWriter<byte> output, bool guests = false)
    {
        int size = Size(bodyField, body.Length, guests);
        int n = Write(bodyField, body, output.GetSpan(size), guests);
        output.Advance(n);
    }

    private int Size(int bodyField, int bodyLength, bool guests) =>
        PrefixOf(bodyField, guests).Length + (NextSequence == 0 ? 0 : 1 + Varint.Size(NextSequence)) + ProtoBuffer.FieldSize(bodyField, bodyLength);

    private int Write(int bodyField, ReadOnlySpan<byte> body, Span<byte> dest, bool guests)
    {
        var prefix = PrefixOf(bodyField, guests);
        prefix.CopyTo(dest);
        int p = prefix.Length;
        if (NextSequence != 0)
        {
            p += PutVarint(dest[p..], (WireSchema.RecordSequence << 3) | (ulong)WireType.Varint);
            p += PutVarint(dest[p..], NextSequence);
        }
        p += PutVarint(dest[p..], ((ulong)bodyField << 3) | (ulong)WireType.LengthDelimited);
        p += PutVarint(dest[p..], (ulong)body.Length);
        body.CopyTo(dest[p..]);
        NextSequence++;
        return p + body.Length;
    }

    private static int PutVarint(Span<byte> dest, ulong v)
    {
        int i = 0;
        while (v >= 0x80)
        {
            dest[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        dest[i++] = (byte)v;
        return i;
    }
}
