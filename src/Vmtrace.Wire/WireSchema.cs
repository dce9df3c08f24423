namespace Vmtrace.Wire;

/// <summary>Version and field numbers of proto/vmtrace/v1/events.proto, the one schema of the wire format.</summary>
internal static class WireSchema
{
    /// <summary>The newest schema version this code reads and writes (version 2 added <c>AgentHealth</c>, version 3 guests).</summary>
    public const uint Version = 3;

    /// <summary>Records every reader can read (events, inventory, heartbeat) keep version 1, so version-1 workers still read them.</summary>
    public const uint FirstVersion = 1;

    /// <summary>The version an <c>AgentHealth</c> record carries: a version-1 worker refuses it with a clear message instead of misreading it.</summary>
    public const uint AgentHealthVersion = 2;

    /// <summary>The version of an inventory or event batch that carries guests (a version-2 worker refuses it rather than dropping the guests' events).</summary>
    public const uint GuestsVersion = 3;

    // HostRecord
    public const int RecordVersion = 1;
    public const int RecordHostId = 2;
    public const int RecordSequence = 3;
    public const int RecordSessionId = 4;
    public const int RecordEvents = 10;
    public const int RecordInventory = 11;
    public const int RecordHeartbeat = 12;
    public const int RecordAgentHealth = 13;

    // Heartbeat
    public const int HeartbeatWatermark = 1;

    // AgentHealth
    public const int HealthSampledAt = 1;
    public const int HealthEventsRead = 2;
    public const int HealthEventsSent = 3;
    public const int HealthEventsSkipped = 4;
    public const int HealthTracerLost = 5;
    public const int HealthBatches = 6;
    public const int HealthBatchBytes = 7;
    public const int HealthRecordsProduced = 8;
    public const int HealthRecordsDelivered = 9;
    public const int HealthDeliveryErrors = 10;
    public const int HealthBufferedRecords = 11;
    public const int HealthBufferedBytes = 12;
    public const int HealthBufferedBytesPeak = 13;
    public const int HealthBufferCapacity = 14;
    public const int HealthBufferFullWaits = 15;
    public const int HealthBufferFullWaitNs = 16;
    public const int HealthDecodeErrors = 17;

    // Inventory, Vm, VmThread, ThreadName
    public const int InventoryVms = 1;
    public const int InventoryThreadNames = 2;
    public const int InventorySampledAt = 3;
    public const int InventoryGuests = 4;
    public const int GuestName = 1;
    public const int GuestCpus = 2;
    public const int GuestThreadNames = 3;
    public const int GuestCpuCpu = 1;
    public const int GuestCpuHostTid = 2;
    public const int VmName = 1;
    public const int VmPid = 2;
    public const int VmUuid = 3;
    public const int VmTapDevices = 4;
    public const int VmThreads = 5;
    public const int VmIdentity = 6;
    public const int VmEvidence = 7;
    public const int VmThreadTid = 1;
    public const int VmThreadComm = 2;
    public const int VmThreadVcpuIndex = 3;
    public const int ThreadNameTid = 1;
    public const int ThreadNameComm = 2;

    // EventBatch
    public const int BatchEventCount = 1;
    public const int BatchClock = 2;
    public const int BatchCpuCount = 3;
    public const int BatchTypes = 4;
    public const int BatchStrings = 5;
    public const int BatchTimestampDeltas = 6;
    public const int BatchTypeIndexes = 7;
    public const int BatchCpus = 8;
    public const int BatchTidDeltas = 9;
    public const int BatchColumns = 10;
    public const int BatchSkippedEvents = 11;
    public const int BatchGuestIndexes = 12;
    public const int BatchGuests = 13;

    // EventTypeDesc, FieldDesc, FieldColumn
    public const int TypeName = 1;
    public const int TypeSystem = 2;
    public const int TypeFields = 3;
    public const int FieldName = 1;
    public const int FieldKindNumber = 2;
    public const int FieldDisplayBase = 3;
    public const int FieldElementKind = 4;
    public const int FieldOptional = 5;
    public const int FieldEncoding = 6;
    public const int ColumnValues = 1;
    public const int ColumnAbsentRows = 2;

    /// <summary>Bounds that keep a bogus record from making the reader allocate without limit.</summary>
    public const int MaxCpu = 65535;
    public const int MaxTypes = 4096;
    public const int MaxFieldsPerType = 256;
}

/// <summary>Protobuf wire types.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>How a column's value gives the field's value (proto enum ColumnEncoding).</summary>
public enum ColumnEncoding
{
    Plain = 0,
    StringIndex = 1,
    MinusTid = 2,
    Delta = 3,
}
