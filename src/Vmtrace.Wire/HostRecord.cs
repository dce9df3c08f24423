namespace Vmtrace.Wire;

/// <summary>What a <c>HostRecord</c> carries.</summary>
public enum HostRecordKind
{
    EventBatch,
    Inventory,
    Heartbeat,
    /// <summary>The agent's counters (schema version 2).</summary>
    AgentHealth,
}

/// <summary>
/// The envelope of one record: schema version, host, session, sequence number and where its body is.
/// Read with <see cref="Read"/>; then hand the record to an <see cref="EventBatchReader"/>, or call
/// <see cref="ReadInventory"/> / <see cref="ReadWatermark"/>.
/// </summary>
public sealed class HostRecord
{
    private HostRecord(byte[] data, string hostId, string sessionId, ulong sequence, HostRecordKind kind, int bodyStart, int bodyEnd)
    {
        Data = data;
        HostId = hostId;
        SessionId = sessionId;
        Sequence = sequence;
        Kind = kind;
        BodyStart = bodyStart;
        BodyEnd = bodyEnd;
    }

    public string HostId { get; }
    public string SessionId { get; }
    public ulong Sequence { get; }
    public HostRecordKind Kind { get; }
    internal byte[] Data { get; }
    internal int BodyStart { get; }
    internal int BodyEnd { get; }

    /// <summary>Parses the envelope; throws <see cref="WireFormatException"/> (or <see cref="WireVersionException"/>) on a bad record.</summary>
    public static HostRecord Read(byte[] record)
    {
        ArgumentNullException.ThrowIfNull(record);
        uint version = 0;
        bool sawVersion = false;
        string host = "", session = "";
        ulong sequence = 0;
        HostRecordKind? kind = null;
        int bodyStart = 0, bodyEnd = 0, versionAt = 0;
        var r = new ProtoReader(record, 0, record.Length, "HostRecord");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.RecordVersion:
                    versionAt = r.FieldStart;
                    version = r.ReadUInt32(type, "schema_version");
                    sawVersion = true;
                    break;
                case WireSchema.RecordHostId: host = r.ReadString(type, "host_id"); break;
                case WireSchema.RecordSessionId: session = r.ReadString(type, "session_id"); break;
                case WireSchema.RecordSequence: sequence = r.ReadVarint(type, "sequence"); break;
                case WireSchema.RecordEvents:
                case WireSchema.RecordInventory:
                case WireSchema.RecordHeartbeat:
                case WireSchema.RecordAgentHealth:
                    if (kind is not null)
                        throw new WireFormatException(r.FieldStart, "HostRecord: more than one body (events, inventory, heartbeat, agent_health)");
                    (bodyStart, bodyEnd) = r.ReadLengthDelimited(type, "body");
                    kind = field switch
                    {
                        WireSchema.RecordEvents => HostRecordKind.EventBatch,
                        WireSchema.RecordInventory => HostRecordKind.Inventory,
                        WireSchema.RecordHeartbeat => HostRecordKind.Heartbeat,
                        _ => HostRecordKind.AgentHealth,
                    };
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }
        if (!sawVersion)
            throw new WireFormatException(0, "HostRecord: no schema_version (not a vmtrace wire record?)");
        if (version < WireSchema.FirstVersion || version > WireSchema.Version)
            throw new WireVersionException(versionAt, version);
        if (host.Length == 0)
            throw new WireFormatException(0, "HostRecord: no host_id");
        if (kind is null)
            throw new WireFormatException(record.Length, "HostRecord: no body (events, inventory, heartbeat or agent_health)");
        if (kind == HostRecordKind.AgentHealth && version < WireSchema.AgentHealthVersion)
            throw new WireFormatException(versionAt, $"HostRecord: agent_health in a schema version {version} record (it needs version {WireSchema.AgentHealthVersion})");
        return new HostRecord(record, host, session, sequence, kind.Value, bodyStart, bodyEnd);
    }

    /// <summary>The watermark of a heartbeat record.</summary>
    public long ReadWatermark()
    {
        Expect(HostRecordKind.Heartbeat);
        long watermark = 0;
        var r = new ProtoReader(Data, BodyStart, BodyEnd, "Heartbeat");
        while (r.TryReadTag(out int field, out var type))
        {
            if (field == WireSchema.HeartbeatWatermark)
                watermark = r.ReadSigned(type, "watermark_ns");
            else
                r.Skip(type);
        }
        return watermark;
    }

    /// <summary>The inventory of an inventory record.</summary>
    public WireInventory ReadInventory()
    {
        Expect(HostRecordKind.Inventory);
        return InventoryCodec.Decode(Data, BodyStart, BodyEnd);
    }

    /// <summary>The counters of an agent health record.</summary>
    public WireAgentHealth ReadAgentHealth()
    {
        Expect(HostRecordKind.AgentHealth);
        return AgentHealthCodec.Decode(Data, BodyStart, BodyEnd);
    }

    internal void Expect(HostRecordKind kind)
    {
        if (Kind != kind)
            throw new InvalidOperationException($"record {Sequence} of host {HostId} holds {Kind}, not {kind}");
    }
}
