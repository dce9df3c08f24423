using System.Buffers.Binary;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis;

/// <summary>
/// Checkpoints: the whole analysis state (threads, per-CPU occupants and preempted lists, vCPU states,
/// pending exits, in-flight disk requests, network devices, open window accumulators and histograms,
/// counters, inventory, options) saved to bytes and restored into a fresh instance that then gives
/// exactly the output the original would have. Every instance field reachable from the analysis is
/// saved, so state added later is covered without touching this file; a checkpoint written by a build
/// whose state has another shape is refused with a <see cref="CheckpointFormatException"/>.
/// </summary>
public sealed partial class HostAnalysis
{
    private static ReadOnlySpan<byte> CheckpointMagic => "VMTRACE-HA"u8;
    private const ushort CheckpointVersion = 1;

    /// <summary>The state as bytes (see <see cref="RestoreCheckpoint(ReadOnlySpan{byte})"/>). The analysis is not changed.</summary>
    public byte[] SaveCheckpoint()
    {
        using var ms = new MemoryStream();
        SaveCheckpoint(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the state to <paramref name="destination"/>.</summary>
    public void SaveCheckpoint(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new BinaryWriter(destination, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(CheckpointMagic);
        Span<byte> version = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(version, CheckpointVersion);
        writer.Write(version);
        new StateWriter(writer).WriteRoot(this);
        writer.Flush();
    }

    /// <summary>A new analysis in exactly the state saved in <paramref name="checkpoint"/>.</summary>
    /// <exception cref="CheckpointFormatException">Damaged, cut short, or of another version.</exception>
    public static HostAnalysis RestoreCheckpoint(ReadOnlySpan<byte> checkpoint)
    {
        using var ms = new MemoryStream(checkpoint.ToArray(), writable: false);
        return RestoreCheckpoint(ms);
    }

    /// <summary>A new analysis in exactly the state saved in <paramref name="source"/> (read from its current position).</summary>
    /// <exception cref="CheckpointFormatException">Damaged, cut short, or of another version.</exception>
    public static HostAnalysis RestoreCheckpoint(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var reader = new BinaryReader(source, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            Span<byte> head = stackalloc byte[CheckpointMagic.Length + 2];
            reader.BaseStream.ReadExactly(head);
            if (!head[..CheckpointMagic.Length].SequenceEqual(CheckpointMagic))
                throw new CheckpointFormatException("not an analysis checkpoint (magic bytes differ)");
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head[CheckpointMagic.Length..]);
            if (version != CheckpointVersion)
                throw new CheckpointFormatException($"analysis checkpoint version {version}; this build reads version {CheckpointVersion}");
            var restored = new StateReader(reader).ReadRoot<HostAnalysis>();
            restored._options.Validate();
            return restored;
        }
        catch (EndOfStreamException ex)
        {
            throw new CheckpointFormatException($"analysis checkpoint cut short at byte {source.Position}", ex);
        }
        catch (Exception ex) when (ex is ArgumentException or System.Reflection.TargetInvocationException or InvalidCastException or FormatException)
        {
            throw new CheckpointFormatException($"analysis checkpoint damaged near byte {source.Position}: {ex.Message}", ex);
        }
    }
}
