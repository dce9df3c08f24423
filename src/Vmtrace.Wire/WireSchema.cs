namespace Vmtrace.Wire;

/// <summary>Version and field numbers of proto/vmtrace/v1/events.proto, the one schema of the wire format.</summary>
internal static class WireSchema
{
    public const uint Version = 1;

    // HostRecord
    public const int RecordVersion = 1;
    public const int RecordHostId = 2;
    public const int RecordSequence = 3;
    public const int RecordSessionId = 4;
    public const int RecordEvents = 10;
    public const int RecordInventory = 11;
    public const int RecordHeartbeat = 12;

    // Heartbeat
    public const int HeartbeatWatermark = 1;

    // Inventory, Vm, VmThread, ThreadName
    public const int InventoryVms = 1;
    public const int InventoryThreadNames = 2;
    public const int InventorySampledAt = 3;
    public const int VmName = 1;
    public const int VmPid = 2;
    public const int VmUuid = 3;
    public const int VmTapDevices = 4;
    public const int VmThreads = 5;
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
