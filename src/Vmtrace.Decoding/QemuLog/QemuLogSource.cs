namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// Reads the trace file of qemu's <c>log</c> backend (<c>-trace events=… -D FILE -msg timestamp=on</c>):
/// one event per line, <c>TID@SECONDS.MICROS:event_name args</c>, TID a Linux thread id and the time from
/// gettimeofday (so <see cref="TraceClockKind.Realtime"/>, microsecond resolution). Events come in file
/// order with Cpu = -1; a time that goes backwards is delivered as read and counted as out of order.
/// Every line that is not an event (a qemu message, garbage, a last line cut off without its '\n') is
/// recorded as a <see cref="TraceFormatException"/> naming the line and byte offset, and reading goes on
/// with the next line. Blank lines are ignored.
/// </summary>
public sealed class QemuLogSource : EventSource
{
    private const int DetectionBytes = 8192;

    private readonly string _path;
    private readonly long _fileLength;
    private readonly LineReader _lines;
    private readonly QemuLogEventDecoder _decoder = new();

    private QemuLogSource(string path)
    {
        _path = path;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        _fileLength = stream.Length;
        _lines = new LineReader(stream);
    }

    public static EventSource Open(string path) => new QemuLogSource(path);

    /// <summary>True when one of the first lines of the file is a qemu trace event line.</summary>
    public static bool LooksLikeQemuLog(string path)
    {
        Span<byte> head = stackalloc byte[DetectionBytes];
        int n;
        using (var f = File.OpenRead(path))
            n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];
        if (head.Contains((byte)0))
            return false;
        var parser = new QemuLogLineParser();
        while (!head.IsEmpty)
        {
            int nl = head.IndexOf((byte)'\n');
            if (nl < 0 && n == DetectionBytes)
                break; // a line cut by the detection window proves nothing
            var line = nl < 0 ? head : head[..nl];
            if (parser.Parse(line) is null)
                return true;
            head = nl < 0 ? default : head[(nl + 1)..];
        }
        return false;
    }

    public override string Description => _path;

    public override TraceClockKind Clock => TraceClockKind.Realtime;

    public override string ClockName => "realtime (qemu log, gettimeofday)";

    public override double Progress => _fileLength == 0 ? 1 : (double)_lines.Position / _fileLength;

    /// <summary>Distinct event types met so far (for tests: steady-state lines must not create new ones).</summary>
    internal int TypeCount => _decoder.TypeCount;

    public override TraceEvent Current => _decoder.HasCurrent
        ? _decoder.Current
        : throw new InvalidOperationException("MoveNext() has not returned true");

    public override bool MoveNext()
    {
        while (_lines.TryReadLine(out var line, out var status))
        {
            if (status == LineStatus.TooLong)
            {
                Reject($"line longer than {LineReader.MaxLineLength} bytes");
                continue;
            }
            if (line.Trim(" \t"u8).IsEmpty && status == LineStatus.Complete)
                continue;
            if (status == LineStatus.Unterminated)
            {
                Reject("last line has no end of line: cut off while being written");
                continue;
            }
            string? problem = _decoder.Decode(line, Diagnostics);
            if (problem is not null)
            {
                Reject(problem);
                continue;
            }
            return true;
        }
        _decoder.Clear();
        return false;
    }

    private void Reject(string problem) =>
        Diagnostics.AddError(new TraceFormatException(_path, _lines.LineOffset, $"line {_lines.LineNumber}: {problem}"), _lines.LineSpan);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _lines.Dispose();
    }
}
