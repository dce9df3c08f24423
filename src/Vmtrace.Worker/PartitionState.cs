namespace Vmtrace.Worker;

/// <summary>
/// What the worker holds for one events partition: every host stream in it and the offset of the next
/// record to process. A checkpoint of it (see <see cref="PartitionCheckpoint"/>) is exact: restoring it and
/// processing from <see cref="NextOffset"/> gives the same points as never having stopped.
/// </summary>
internal sealed class PartitionState(int partition)
{
    public int Partition { get; } = partition;

    public long NextOffset { get; set; }

    public Dictionary<string, HostStream> Hosts { get; } = new(StringComparer.Ordinal);

    /// <summary>The offset of the last checkpoint written (or restored), -1 when none.</summary>
    public long CheckpointedOffset { get; set; } = -1;

    public long LastCheckpointTicks { get; set; }

    public HostStream Host(string hostId)
    {
        if (!Hosts.TryGetValue(hostId, out var h))
            Hosts.Add(hostId, h = new HostStream(hostId));
        return h;
    }
}
