using System.Buffers.Binary;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ctf;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.Decoding.QemuLog;
using Vmtrace.Decoding.TraceCompassXml;

namespace Vmtrace.Fuzz;

/// <summary>
/// One reader (or the analysis) driven by one fuzz input. The readers take paths (trace.dat and CTF need
/// random access), so an input is written to files under a work directory first. Formats made of several
/// files are packed into one input (see <see cref="CtfInput"/>).
/// </summary>
internal sealed class FuzzTarget
{
    /// <summary>Every target, by the name used on the command line and as the corpus folder.</summary>
    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("tracedat", "trace-cmd trace.dat (v6, v7 with zlib/zstd)", OpenTraceDat),
        new("ctf", "CTF 1.8 trace: metadata and one stream file, packed (see CtfInput)", OpenCtf),
        new("qemulog", "qemu log-backend trace file", OpenQemuLog),
        new("xml", "Trace Compass XML stub", OpenXml),
        new("archive", "an .xz (first byte even) or .tar.xz (first byte odd) of any trace", OpenArchive),
        new("analyze", "the analysis over any reader: first byte picks the format (see AnalyzeFormats)", OpenForAnalysis),
    ];

    /// <summary>The readers the analyze target chooses from with its first byte.</summary>
    private static readonly Func<ReadOnlyMemory<byte>, string, EventSource>[] AnalyzeFormats = [OpenTraceDat, OpenCtf, OpenQemuLog, OpenXml, OpenArchive];

    private readonly Func<ReadOnlyMemory<byte>, string, EventSource> _open;

    private FuzzTarget(string name, string input, Func<ReadOnlyMemory<byte>, string, EventSource> open)
    {
        Name = name;
        Input = input;
        _open = open;
    }

    public string Name { get; }

    /// <summary>What an input of this target is.</summary>
    public string Input { get; }

    public bool IsAnalysis => Name == "analyze";

    public static FuzzTarget Find(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}' (targets: {string.Join(", ", All.Select(t => t.Name))})");

    /// <summary>
    /// Reads the whole input (and analyses it for the analyze target). A <see cref="TraceFormatException"/> is the
    /// readers' documented way to refuse a file and is returned, not thrown; any other exception escapes (a bug).
    /// </summary>
    public FuzzOutcome Run(ReadOnlyMemory<byte> input, string workDir)
    {
        var outcome = new FuzzOutcome();
        try
        {
            using var source = _open(input, workDir);
            if (IsAnalysis)
                Analyze(source, outcome);
            else
                Drain(source, outcome);
            outcome.Diagnostics = TraceOpener.DiagnosticsOf(source);
        }
        catch (TraceFormatException e)
        {
            outcome.Refused = e;
        }
        return outcome;
    }

    private static void Drain(EventSource source, FuzzOutcome outcome)
    {
        while (source.MoveNext())
        {
            var e = source.Current;
            outcome.Events++;
            // Formatting reads every field as dump does: a field whose stored span is out of bounds shows up here.
            outcome.Checksum = (outcome.Checksum * 31) + e.Timestamp + EventFormatter.Format(e).Length;
        }
    }

    /// <summary>Reads <paramref name="source"/> through the analysis as the analyze target does (1 s windows).</summary>
    public static FuzzOutcome AnalyzeAll(EventSource source)
    {
        var outcome = new FuzzOutcome();
        Analyze(source, outcome);
        outcome.Diagnostics = TraceOpener.DiagnosticsOf(source);
        return outcome;
    }

    private static void Analyze(EventSource source, FuzzOutcome outcome)
    {
        HostAnalysis? analysis = null;
        while (source.MoveNext())
        {
            var e = source.Current;
            if (analysis is null)
            {
                analysis = new HostAnalysis(new AnalysisOptions { CpuCount = source.CpuCount });
                analysis.AddThreadNames(source.InitialThreadNames);
            }
            analysis.OnEvent(e);
            outcome.Events++;
            if ((outcome.Events & 0x3FF) == 0)
                outcome.Windows += analysis.TakeClosedWindows().Count;
        }
        if (analysis is null)
            return;
        analysis.Flush(analysis.Now);
        outcome.Windows += analysis.TakeClosedWindows().Count;
        outcome.Analysis = analysis.Counters;
    }

    private static string Write(string workDir, string name, ReadOnlySpan<byte> bytes)
    {
        string path = Path.Combine(workDir, name);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1);
        f.Write(bytes);
        return path;
    }

    private static EventSource OpenTraceDat(ReadOnlyMemory<byte> input, string workDir) =>
        FtraceFileSource.Open(Write(workDir, "trace.dat", input.Span));

    private static EventSource OpenQemuLog(ReadOnlyMemory<byte> input, string workDir) =>
        QemuLogSource.Open(Write(workDir, "qemu.log", input.Span));

    private static EventSource OpenXml(ReadOnlyMemory<byte> input, string workDir) =>
        TraceCompassXmlSource.Open(Write(workDir, "trace.xml", input.Span));

    private static EventSource OpenCtf(ReadOnlyMemory<byte> input, string workDir)
    {
        string dir = Path.Combine(workDir, "ctf");
        Directory.CreateDirectory(dir);
        var (metadata, stream) = CtfInput.Split(input);
        Write(dir, "metadata", metadata.Span);
        Write(dir, "stream_0", stream.Span);
        return CtfTraceSource.Open(dir);
    }

    private static EventSource OpenArchive(ReadOnlyMemory<byte> input, string workDir)
    {
        var span = input.Span;
        bool tar = !span.IsEmpty && (span[0] & 1) == 1;
        string path = Write(workDir, tar ? "trace.tar.xz" : "trace.xz", span.IsEmpty ? span : span[1..]);
        return TraceOpener.Open(path);
    }

    private static EventSource OpenForAnalysis(ReadOnlyMemory<byte> input, string workDir)
    {
        if (input.IsEmpty)
            throw new TraceFormatException("(empty input)", 0, "no format byte");
        var open = AnalyzeFormats[input.Span[0] % AnalyzeFormats.Length];
        return open(input[1..], workDir);
    }

    public override string ToString() => Name;
}

/// <summary>What one run of a target gave.</summary>
internal sealed class FuzzOutcome
{
    public long Events { get; set; }
    public long Windows { get; set; }
    public long Checksum { get; set; }
    public TraceFormatException? Refused { get; set; }
    public SourceDiagnostics? Diagnostics { get; set; }
    public AnalysisCounters? Analysis { get; set; }
}

/// <summary>
/// A CTF trace packed into one fuzz input: a 4-byte little-endian length, that many bytes of metadata (TSDL
/// text or packetized), then the bytes of one stream file. A length past the end takes the whole rest.
/// </summary>
internal static class CtfInput
{
    public static (ReadOnlyMemory<byte> Metadata, ReadOnlyMemory<byte> Stream) Split(ReadOnlyMemory<byte> input)
    {
        if (input.Length < 4)
            return (input, ReadOnlyMemory<byte>.Empty);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(input.Span);
        var rest = input[4..];
        int cut = (int)Math.Min(length, (uint)rest.Length);
        return (rest[..cut], rest[cut..]);
    }

    public static byte[] Pack(ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> stream)
    {
        var packed = new byte[4 + metadata.Length + stream.Length];
        BinaryPrimitives.WriteInt32LittleEndian(packed, metadata.Length);
        metadata.CopyTo(packed.AsSpan(4));
        stream.CopyTo(packed.AsSpan(4 + metadata.Length));
        return packed;
    }
}
