using System.Text;
using Vmtrace.Analysis;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Worker;

/// <summary>
/// The value of a <c>vmtrace.state</c> record: the offset of the next events record to process, then for
/// each host its session, its inventory and its serialized <see cref="HostAnalysis"/>. Key =
/// <c>&lt;group id&gt;/&lt;events topic&gt;/&lt;partition&gt;</c> (compaction keeps the latest per group); it is written to the
/// state partition of the same number. Keyed by group: consumer groups reading the same topic each keep their own state.
/// </summary>
internal static class PartitionCheckpoint
{
    private static ReadOnlySpan<byte> Magic => "VMTRACE-PC"u8;
    private const byte Version = 1;

    public static string Key(string groupId, string eventsTopic, int partition) =>
        groupId + "/" + eventsTopic + "/" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Encode(PartitionState state)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(state.Partition);
            w.Write(state.NextOffset);
            w.Write(state.Hosts.Count);
            foreach (var h in state.Hosts.Values.OrderBy(h => h.HostId, StringComparer.Ordinal))
            {
                w.Write(h.HostId);
                w.Write(h.SessionId);
                w.Write(h.Inventory is null ? "" : InventoryMapping.Serialize(h.Inventory));
                w.Write(h.AppliedInventory);
                if (h.Analysis is null)
                {
                    w.Write(0);
                }
                else
                {
                    var bytes = h.Analysis.SaveCheckpoint();
                    w.Write(bytes.Length);
                    w.Write(bytes);
                }
            }
        }
        return ms.ToArray();
    }

    /// <exception cref="CheckpointFormatException">Damaged or of another version; the message names the partition.</exception>
    public static PartitionState Decode(byte[] value, int expectedPartition)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(value, writable: false), Encoding.UTF8);
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new CheckpointFormatException($"partition {expectedPartition}: not a worker checkpoint");
            byte version = r.ReadByte();
            if (version != Version)
                throw new CheckpointFormatException($"partition {expectedPartition}: checkpoint version {version}, this build reads {Version}");
            int partition = r.ReadInt32();
            if (partition != expectedPartition)
                throw new CheckpointFormatException($"checkpoint of partition {partition} found where partition {expectedPartition}'s was expected");
            var state = new PartitionState(partition) { NextOffset = r.ReadInt64() };
            int hosts = r.ReadInt32();
            for (int i = 0; i < hosts; i++)
            {
                var h = state.Host(r.ReadString());
                h.SessionId = r.ReadString();
                string inventory = r.ReadString();
                h.Inventory = inventory.Length == 0 ? null : InventoryMapping.Deserialize(inventory);
                h.AppliedInventory = r.ReadString();
                int n = r.ReadInt32();
                if (n > 0)
                    h.Analysis = HostAnalysis.RestoreCheckpoint(r.ReadBytes(n));
            }
            state.CheckpointedOffset = state.NextOffset;
            return state;
        }
        catch (Exception ex) when (ex is EndOfStreamException or System.Text.Json.JsonException or FormatException)
        {
            throw new CheckpointFormatException($"partition {expectedPartition}: damaged worker checkpoint: {ex.Message}", ex);
        }
    }
}
