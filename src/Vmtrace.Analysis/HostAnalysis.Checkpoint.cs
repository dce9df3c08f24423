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
        var refs = new CheckpointRefs(this);
        CheckpointFile.WriteHeader(destination, 7);
        WriteSection(destination, CheckpointSection.Analysis, WriteAnalysisSection);
        WriteSection(destination, CheckpointSection.Identity, w => WriteIdentitySection(w, refs));
        WriteSection(destination, CheckpointSection.Scheduler, w => WriteSchedulerSection(w, refs));
        WriteSection(destination, CheckpointSection.Kvm, w => WriteKvmSection(w, refs));
        WriteSection(destination, CheckpointSection.Disk, WriteDiskSection);
        WriteSection(destination, CheckpointSection.Network, WriteNetworkSection);
        WriteSection(destination, CheckpointSection.Windows, WriteWindowsSection);
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

    /// <summary>A new analysis in exactly the state saved in <paramref name="source"/> (read from its current position to its end).</summary>
    /// <exception cref="CheckpointFormatException">Not a checkpoint, of another format version, cut short or damaged; the message names the section.</exception>
    public static HostAnalysis RestoreCheckpoint(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var ms = new MemoryStream();
        source.CopyTo(ms);
        return Restore(ms.ToArray());
    }

    private static HostAnalysis Restore(byte[] data)
    {
        var sections = CheckpointFile.ReadSections(data);
        HostAnalysis? analysis = null;
        ReadSection(sections, CheckpointSection.Analysis, r => analysis = ReadAnalysisSection(r));
        var restored = analysis!;
        var threads = new List<ThreadInfo>();
        ReadSection(sections, CheckpointSection.Identity, r => restored.ReadIdentitySection(r, threads));
        ReadSection(sections, CheckpointSection.Scheduler, r => restored.ReadSchedulerSection(r, threads));
        ReadSection(sections, CheckpointSection.Kvm, r => restored.ReadKvmSection(r, threads));
        ReadSection(sections, CheckpointSection.Disk, restored.ReadDiskSection);
        ReadSection(sections, CheckpointSection.Network, restored.ReadNetworkSection);
        ReadSection(sections, CheckpointSection.Windows, restored.ReadWindowsSection);
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
        w.Int64(_now);
        w.Int64(_windowStart);
        w.Int64(_windowEnd);
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
            _now = r.Int64(),
            _windowStart = r.Int64(),
            _windowEnd = r.Int64(),
        };
        analysis.Counters.ReadFrom(r);
        return analysis;
    }

    /// <summary>
    /// Every thread object the state refers to, numbered: the thread table's in its order, then those only referred
    /// to from elsewhere (a thread whose tid was reused while it still waits in a preempted list). Threads are
    /// written once, in the identity section, and referred to by that number.
    /// </summary>
    private sealed class CheckpointRefs
    {
        public readonly List<ThreadInfo> Threads = [];
        public readonly List<bool> InTable = [];
        private readonly Dictionary<ThreadInfo, int> _ids = new(ReferenceEqualityComparer.Instance);

        public CheckpointRefs(HostAnalysis a)
        {
            foreach (var t in a._threads.Values)
                Add(t, inTable: true);
            foreach (var t in a._vmThreads)
                Add(t, inTable: false);
            for (int i = 0; i <= a._maxCpu; i++)
            {
                if (a._cpus[i].Current is { } current)
                    Add(current, inTable: false);
                foreach (var p in a._cpus[i].Preempted)
                    Add(p, inTable: false);
            }
        }

        public int Id(ThreadInfo? t) => t is null ? -1 : _ids[t];

        private void Add(ThreadInfo t, bool inTable)
        {
            if (_ids.TryAdd(t, Threads.Count))
            {
                Threads.Add(t);
                InTable.Add(inTable);
            }
        }
    }
}
