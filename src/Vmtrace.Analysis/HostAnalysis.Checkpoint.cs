using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis;

/// <summary>
/// Checkpoints: the whole analysis state saved to bytes and restored into a fresh instance that then gives
/// exactly the output the original would have. The format is explicit and versioned (docs/checkpoint-format.md):
/// a header, then one section per tracker, each written and read by code. Objects referenced from several
/// places (a thread in the thread table, a CPU's current slot and a preempted list) are written once and
/// referred to by their index in the section that owns them.
/// </summary>
public sealed partial class HostAnalysis
{
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
        var refs = new ThreadRefs();
        _identity.CollectThreads(refs);
        _scheduler.CollectThreads(refs);
        _nested.CollectThreads(refs);
        CheckpointFile.WriteHeader(destination, Guests is null ? 7 : 8);
        WriteSection(destination, CheckpointSection.Analysis, WriteAnalysisSection);
        WriteSection(destination, CheckpointSection.Identity, w => _identity.WriteCheckpoint(w, refs));
        WriteSection(destination, CheckpointSection.Scheduler, w => _scheduler.WriteCheckpoint(w, refs));
        WriteSection(destination, CheckpointSection.Kvm, w => _kvm.WriteCheckpoint(w, refs));
        WriteSection(destination, CheckpointSection.Disk, _disk.WriteCheckpoint);
        WriteSection(destination, CheckpointSection.Network, _network.WriteCheckpoint);
        WriteSection(destination, CheckpointSection.Windows, w =>
        {
            _windows.WriteCheckpoint(w);
            _waitCauses.WriteCheckpoint(w, refs);
            _nested.WriteCheckpoint(w, refs);
        });
        if (Guests is { } guests)
            WriteSection(destination, CheckpointSection.Guests, guests.WriteCheckpoint);
    }

    private static void WriteSection(Stream destination, CheckpointSection section, Action<SectionWriter> write)
    {
        using var w = new SectionWriter();
        write(w);
        CheckpointFile.WriteSection(destination, section, w.Payload);
    }

    /// <summary>A new analysis in exactly the state saved in <paramref name="checkpoint"/>.</summary>
    /// <exception cref="CheckpointFormatException">Not a checkpoint, of another format version, cut short or damaged; the message names the section.</exception>
    public static HostAnalysis RestoreCheckpoint(ReadOnlySpan<byte> checkpoint) => Restore(checkpoint.ToArray());

    /// <summary>A new analysis in exactly the state saved in <paramref name="source"/> (read from its current position, up to the checkpoint's end).</summary>
    /// <exception cref="CheckpointFormatException">Not a checkpoint, of another format version, cut short or damaged; the message names the section.</exception>
    public static HostAnalysis RestoreCheckpoint(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Restore(CheckpointFile.ReadFrame(source));
    }

    private static HostAnalysis Restore(byte[] data)
    {
        var sections = CheckpointFile.ReadSections(data);
        HostAnalysis? analysis = null;
        ReadSection(sections, CheckpointSection.Analysis, r => analysis = ReadAnalysisSection(r));
        var restored = analysis!;
        // Its threads may be in guest mode.
        restored._guestEntered = true;
        List<ThreadInfo> threads = [];
        ReadSection(sections, CheckpointSection.Identity, r => threads = restored._identity.ReadCheckpoint(r));
        ReadSection(sections, CheckpointSection.Scheduler, r => restored._scheduler.ReadCheckpoint(r, threads));
        ReadSection(sections, CheckpointSection.Kvm, r => restored._kvm.ReadCheckpoint(r, threads));
        ReadSection(sections, CheckpointSection.Disk, restored._disk.ReadCheckpoint);
        ReadSection(sections, CheckpointSection.Network, restored._network.ReadCheckpoint);
        ReadSection(sections, CheckpointSection.Windows, r =>
        {
            restored._windows.ReadCheckpoint(r);
            restored._waitCauses.ReadCheckpoint(r, threads);
            restored._nested.ReadCheckpoint(r, threads);
        });
        if (sections.Exists(s => s.Section == CheckpointSection.Guests))
            ReadSection(sections, CheckpointSection.Guests, r => restored.Guests = FusedGuestAnalysis.ReadCheckpoint(r, restored));
        return restored;
    }

    /// <summary>Reads one section to its end; what its code refuses (an out-of-range value) is named as damage in that section.</summary>
    private static void ReadSection(List<SectionReader> sections, CheckpointSection section, Action<SectionReader> read)
    {
        var r = CheckpointFile.Find(sections, section);
        try
        {
            read(r);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException)
        {
            throw r.Damaged(ex.Message);
        }
        r.ExpectEnd();
    }

    private void WriteAnalysisSection(SectionWriter w)
    {
        w.Int64(_options.WindowNs);
        w.Int32(_options.CpuCount);
        w.Int32(_options.TopInterferers);
        w.NullableInt64(_options.FromNs);
        w.NullableInt64(_options.MaxGapNs);
        w.Bool(_started);
        w.Bool(_finished);
        w.Int64(_clock.Now);
        Counters.WriteTo(w);
    }

    private static HostAnalysis ReadAnalysisSection(SectionReader r)
    {
        var options = new AnalysisOptions
        {
            WindowNs = r.Int64(),
            CpuCount = r.Int32(),
            TopInterferers = r.Int32(),
            FromNs = r.NullableInt64(),
            MaxGapNs = r.NullableInt64(),
        };
        var analysis = new HostAnalysis(options)
        {
            _started = r.Bool(),
            _finished = r.Bool(),
        };
        analysis._clock.Now = r.Int64();
        analysis.Counters.ReadFrom(r);
        return analysis;
    }
}
