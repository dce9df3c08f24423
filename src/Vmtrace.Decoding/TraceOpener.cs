using System.Text;
using Vmtrace.Decoding.Archives;
using Vmtrace.Decoding.Ctf;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.Decoding.QemuLog;
using Vmtrace.Decoding.TraceCompassXml;

namespace Vmtrace.Decoding;

/// <summary>The input formats vmtrace reads.</summary>
public enum TraceFormat
{
    Unknown,
    Ctf,
    TraceCmd,
    QemuLog,
    TraceCompassXml,
}

/// <summary>
/// Opens any supported trace by looking at its content: a CTF directory (or a directory holding
/// several, as LTTng writes kernel/ and ust/), a trace-cmd <c>trace.dat</c>, a qemu log-backend
/// trace file, a Trace Compass XML stub, or an <c>.xz</c>/<c>.tar.xz</c> of any of these.
/// </summary>
public static class TraceOpener
{
    public static EventSource Open(string path)
    {
        if (Directory.Exists(path))
            return OpenDirectory(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such trace file or directory", path);

        if (Decompression.IsXz(path) || Decompression.IsTar(path))
        {
            var temp = new TempDirectory();
            try
            {
                string unpacked = Decompression.Unpack(path, temp);
                var inner = Directory.Exists(unpacked) ? OpenDirectory(unpacked, path) : OpenFile(unpacked, path);
                return new OwningSource(inner, temp, path);
            }
            catch (TraceFormatException ex)
            {
                temp.Dispose();
                throw ShownAs(ex, path, temp.Path);
            }
            catch
            {
                temp.Dispose();
                throw;
            }
        }
        return OpenFile(path, path);
    }

    /// <summary>
    /// Opens several inputs of one host and merges them by time. Throws <see cref="InconsistentInputsException"/>
    /// when they are traces of two machines or on clocks that cannot be aligned.
    /// </summary>
    public static EventSource OpenAll(IReadOnlyList<string> paths)
    {
        if (paths.Count == 1)
            return Open(paths[0]);
        var opened = new List<EventSource>();
        try
        {
            foreach (var p in paths)
                opened.Add(Open(p));
            InputConsistency.Check(opened);
            return new MergedEventSource(opened);
        }
        catch
        {
            foreach (var s in opened)
                s.Dispose();
            throw;
        }
    }

    public static TraceFormat Detect(string file)
    {
        Span<byte> head = stackalloc byte[64];
        int n;
        using (var f = File.OpenRead(file))
            n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];
        if (n >= 10 && head[0] == 0x17 && head[1] == 0x08 && head[2] == 0x44 && head[3..10].SequenceEqual("tracing"u8))
            return TraceFormat.TraceCmd;
        // CTF packetized metadata magic (0x75d11d57, either byte order) or TSDL text.
        if (n >= 4 && ((head[0] == 0x57 && head[1] == 0x1d && head[2] == 0xd1 && head[3] == 0x75)
            || (head[0] == 0x75 && head[1] == 0xd1 && head[2] == 0x1d && head[3] == 0x57)))
            return TraceFormat.Ctf;
        var text = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (text.StartsWith("/* CTF", StringComparison.Ordinal))
            return TraceFormat.Ctf;
        if (text.StartsWith("<?xml", StringComparison.Ordinal) || text.StartsWith("<trace", StringComparison.Ordinal))
            return TraceFormat.TraceCompassXml;
        if (QemuLogSource.LooksLikeQemuLog(file))
            return TraceFormat.QemuLog;
        return TraceFormat.Unknown;
    }

    private static EventSource OpenFile(string file, string shownAs)
    {
        return Detect(file) switch
        {
            TraceFormat.TraceCmd => FtraceFileSource.Open(file),
            TraceFormat.TraceCompassXml => TraceCompassXmlSource.Open(file),
            TraceFormat.QemuLog => QemuLogSource.Open(file),
            TraceFormat.Ctf => CtfTraceSource.Open(Path.GetDirectoryName(Path.GetFullPath(file))!),
            _ => throw new TraceFormatException(shownAs, 0,
                "not a trace vmtrace can read (expected a CTF directory, a trace-cmd trace.dat, a qemu trace log or a Trace Compass XML stub)"),
        };
    }

    private static EventSource OpenDirectory(string dir, string? shownAs = null)
    {
        // Every directory that holds a CTF "metadata" file is one trace (LTTng: kernel/, ust/uid/…/64-bit/).
        var ctfDirs = Directory.EnumerateFiles(dir, "metadata", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).OfType<string>()
            .Order(StringComparer.Ordinal).ToList();
        if (ctfDirs.Count == 0)
        {
            var recording = RecordingDirectory.FindInputs(dir);
            if (recording.Count == 0)
                throw new TraceFormatException(shownAs ?? dir, 0,
                    "directory holds no trace (no CTF 'metadata' file, no trace.dat, no qemu trace log)");
            return OpenAll(recording);
        }
        if (ctfDirs.Count == 1)
            return CtfTraceSource.Open(ctfDirs[0]);
        var sources = new List<EventSource>();
        try
        {
            foreach (var d in ctfDirs)
                sources.Add(CtfTraceSource.Open(d));
            return new MergedEventSource(sources, shownAs ?? dir);
        }
        catch
        {
            foreach (var s in sources)
                s.Dispose();
            throw;
        }
    }

    /// <summary>The same error, naming <paramref name="shownAs"/> where it named a file unpacked under <paramref name="tempDir"/>.</summary>
    private static TraceFormatException ShownAs(TraceFormatException e, string shownAs, string tempDir)
    {
        if (!e.File.StartsWith(tempDir, StringComparison.Ordinal))
            return e;
        string inside = Path.GetRelativePath(Path.Combine(tempDir, "unpacked"), e.File);
        string where = Decompression.IsTar(shownAs) && !inside.StartsWith("..", StringComparison.Ordinal) ? $"{shownAs} [{inside}]" : shownAs;
        return new TraceFormatException(where, e.Offset, e.Problem + " (offset in the unpacked data)", e);
    }

    /// <summary>A source that also owns a temporary directory, deleted with it.</summary>
    private sealed class OwningSource(EventSource inner, TempDirectory temp, string shownAs) : EventSource
    {
        public EventSource Inner => inner;
        public string TempPath => temp.Path;
        public override string Description => shownAs;
        public override TraceEvent Current => inner.Current;
        public override bool MoveNext() => inner.MoveNext();
        public override double Progress => inner.Progress;
        public override TraceClockKind Clock => inner.Clock;
        public override string ClockName => inner.ClockName;
        public override MachineIdentity? Machine => inner.Machine;
        public override bool RecordedInGuest => inner.RecordedInGuest;
        public override int CpuCount => inner.CpuCount;
        public override IReadOnlyDictionary<int, string> InitialThreadNames => inner.InitialThreadNames;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                temp.Dispose();
            }
        }
    }

    /// <summary>Diagnostics of a source and everything it wraps or merges.</summary>
    public static SourceDiagnostics DiagnosticsOf(EventSource source)
    {
        var all = new SourceDiagnostics();
        Collect(source, all);
        return all;
    }

    private static void Collect(EventSource source, SourceDiagnostics into)
    {
        into.Add(source.Diagnostics);
        switch (source)
        {
            case OwningSource o:
                // Errors inside an unpacked archive name the archive the user gave, not our temp copy.
                var inner = new SourceDiagnostics();
                Collect(o.Inner, inner);
                into.Add(inner, e => ShownAs(e, o.Description, o.TempPath));
                break;
            case MergedEventSource m:
                foreach (var s in m.Inputs)
                    Collect(s, into);
                break;
        }
    }
}
