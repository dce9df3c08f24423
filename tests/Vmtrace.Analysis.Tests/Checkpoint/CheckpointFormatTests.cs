using System.Buffers.Binary;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests.Checkpoint;

/// <summary>
/// The explicit checkpoint format: each tracker's section round-trips state saved while that tracker had
/// something in flight, an unknown version is refused by number, and damage is named by section.
/// </summary>
public class CheckpointFormatTests
{
    private static readonly CheckpointSection[] AllSections =
    [
        CheckpointSection.Analysis, CheckpointSection.Identity, CheckpointSection.Scheduler, CheckpointSection.Kvm,
        CheckpointSection.Disk, CheckpointSection.Network, CheckpointSection.Windows,
    ];

    /// <summary>
    /// For each tracker, a trace where it works and cuts where its state is in flight (the condition is checked
    /// before each save): the analysis saved there, restored into a new instance and continued gives the windows
    /// of the uninterrupted run.
    /// </summary>
    [CorpusTheory]
    [InlineData("identity", "s3")]
    [InlineData("scheduler", "s3")]
    [InlineData("kvm", "hip24-allkvm")]
    [InlineData("disk", "s3")]
    [InlineData("network", "s4")]
    [InlineData("windows", "s4")]
    [InlineData("windows", "hip24-2vms")]
    public void RestoreCheckpoint_TrackerStateInFlight_ContinuesLikeTheStraightRun(string tracker, string trace)
    {
        Func<HostAnalysis, bool> inFlight = tracker switch
        {
            // Threads named, VMs known, and a vCPU thread of a VM in the table.
            "identity" => a => a.Identity.ThreadCount > 10 && a.Identity.Vms.Count > 0 && a.Identity.VmThreads.Count > 0,
            "scheduler" => a => a.Scheduler.PreemptedCount > 0,
            "kvm" => a => a.Kvm.ThreadsInGuestOrExiting > 0,
            "disk" => a => a.Disk.OpenRequests > 0,
            "network" => a => a.Network.DevicesOfVms > 0 && a.Identity.Vms.Any(vm => vm.Window.RxPackets + vm.Window.TxPackets > 0),
            // Windows closed and not taken yet: saved with the checkpoint, handed out by the restored analysis.
            "windows" => a => a.Windows.PendingClosed > 0,
            _ => throw new ArgumentOutOfRangeException(nameof(tracker)),
        };
        var (straight, takenAfter) = CheckpointTestTraces.Straight(trace);
        // At most one cut per tenth of the trace, so cuts spread over it.
        long spacing = Math.Max(1000, (takenAfter.Count - 1) / 10);

        using var source = CheckpointTestTraces.Open(trace);
        var analysis = CheckpointTestTraces.Start(source, trace);
        var windows = new List<WindowMetrics>();
        long n = 0, last = long.MinValue, nextCheck = spacing;
        int cuts = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            n++;
            if (n >= nextCheck && inFlight(analysis))
            {
                analysis = HostAnalysis.RestoreCheckpoint(analysis.SaveCheckpoint());
                cuts++;
                nextCheck = n + spacing;
            }
            if (tracker != "windows" || n % spacing == 0)
                windows.AddRange(analysis.TakeClosedWindows());
        }
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());

        Assert.True(cuts >= 2, $"{tracker} on {trace}: its state was in flight at {cuts} cut(s) only");
        Assert.Equal(WindowText.Of(straight), WindowText.Of(windows));
    }

    [Fact]
    public void RestoreCheckpoint_UnknownVersion_ThrowsNamingTheVersion()
    {
        var saved = SmallCheckpoint();
        BinaryPrimitives.WriteUInt16LittleEndian(saved.AsSpan(CheckpointFile.Magic.Length), 99);
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(saved));
        Assert.Contains("version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains("reads version 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreCheckpoint_ReflectionFormatVersion1_ThrowsNamingTheVersion()
    {
        // What the earlier builds wrote: the same magic, version 1, then a reflection dump.
        byte[] old = [.. "VMTRACE-HA"u8, 1, 0, 0, 1, 2, 3];
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(old));
        Assert.Contains("version 1;", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreCheckpoint_ByteFlippedInASection_ThrowsNamingThatSection()
    {
        var saved = SmallCheckpoint();
        foreach (var section in AllSections)
        {
            var (start, length) = Locate(saved, section);
            Assert.True(length > 0, $"section {section} is empty");
            var damaged = (byte[])saved.Clone();
            damaged[start + length / 2] ^= 0x5A;
            var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(damaged));
            Assert.Contains($"section '{CheckpointSections.Name(section)}' damaged", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RestoreCheckpoint_CutShortInASection_ThrowsNamingThatSection()
    {
        var saved = SmallCheckpoint();
        foreach (var section in AllSections)
        {
            var (start, length) = Locate(saved, section);
            var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(saved.AsSpan(0, start + length / 2)));
            Assert.Contains($"cut short in section '{CheckpointSections.Name(section)}'", ex.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A section whose checksum is right but whose content does not parse (a count beyond its size) is named, with the byte.</summary>
    [Fact]
    public void RestoreCheckpoint_SectionNotParsing_ThrowsNamingSectionAndByte()
    {
        var saved = SmallCheckpoint();
        var (start, length) = Locate(saved, CheckpointSection.Identity);
        // The identity section starts with the count of culprit names (7-bit encoded, one byte here): make it 127.
        saved[start] = 0x7F;
        BinaryPrimitives.WriteUInt32LittleEndian(saved.AsSpan(start - 4), Crc32.Of(saved.AsSpan(start, length)));
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(saved));
        Assert.Contains("section 'identity' damaged at byte", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A checkpoint is self-delimiting: restored from a stream, it is read up to its end and what follows is left.</summary>
    [Fact]
    public void RestoreCheckpoint_FromStream_ReadsUpToTheCheckpointsEnd()
    {
        var saved = SmallCheckpoint();
        using var stream = new MemoryStream([.. saved, .. "after"u8]);
        var restored = HostAnalysis.RestoreCheckpoint(stream);
        Assert.Equal(saved.Length, stream.Position);
        Assert.Equal(saved, restored.SaveCheckpoint());

        using var cut = new MemoryStream(saved, 0, saved.Length - 3);
        var ex = Assert.Throws<CheckpointFormatException>(() => HostAnalysis.RestoreCheckpoint(cut));
        Assert.Contains("cut short in section 'windows'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveCheckpoint_HeaderThenOneSectionPerTrackerInOrder()
    {
        var saved = SmallCheckpoint();
        Assert.True(saved.AsSpan(0, CheckpointFile.Magic.Length).SequenceEqual(CheckpointFile.Magic));
        Assert.Equal(CheckpointFile.Version, BinaryPrimitives.ReadUInt16LittleEndian(saved.AsSpan(CheckpointFile.Magic.Length)));
        Assert.Equal(AllSections, CheckpointFile.ReadSections(saved).Select(s => s.Section));
    }

    /// <summary>An analysis with a VM, its vCPU and tap from the inventory, and events of every tracker: every section holds something.</summary>
    private static byte[] SmallCheckpoint()
    {
        var analysis = new HostAnalysis();
        analysis.AddInventory(new VmInventory("vmA", 100, [new InventoryThread(101, "CPU 0/KVM")], ["tap0"]));
        var script = new ScriptedSource()
            .Switch(1_000, 0, 0, "swapper/0", 0, 101, "CPU 0/KVM")
            .Entry(2_000, 0, 101, vcpu: 0)
            .Exit(3_000, 0, 101, vcpu: 0, reason: 30)
            .Entry(4_000, 0, 101, vcpu: 0)
            .Exit(5_000, 0, 101, vcpu: 0, reason: 1)
            .PoolSubmit(6_000, 100, req: 0xA)
            .Xmit(7_000, 1, 100, "tap0", 100)
            // The next window: the first one is closed and left untaken.
            .Entry(1_000_000_500, 0, 101, vcpu: 0);
        while (script.MoveNext())
            analysis.OnEvent(script.Current);
        return analysis.SaveCheckpoint();
    }

    /// <summary>Where a section's payload lies in a checkpoint.</summary>
    private static (int Start, int Length) Locate(byte[] checkpoint, CheckpointSection section)
    {
        int pos = CheckpointFile.Magic.Length + 3;
        while (pos < checkpoint.Length)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(checkpoint.AsSpan(pos + 1));
            if (checkpoint[pos] == (byte)section)
                return (pos + 9, length);
            pos += 9 + length;
        }
        throw new InvalidOperationException("no section " + section);
    }
}
