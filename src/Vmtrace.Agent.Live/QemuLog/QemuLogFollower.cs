using Vmtrace.Decoding;
using Vmtrace.Decoding.QemuLog;

namespace Vmtrace.Agent.Live.QemuLog;

/// <summary>
/// Follows the log-backend trace file of a running qemu (<c>-trace events=… -D FILE -msg timestamp=on</c>) as
/// it grows: complete lines are parsed with the same parser and event types as <see cref="QemuLogSource"/>;
/// a line still being written waits for its '\n'. qemu stamps lines with gettimeofday, the realtime the
/// tracefs source's timestamps are shifted to, so both merge on one time scale. A file that does not exist
/// yet (qemu not started) or that shrinks (qemu restarted with the same -D) is handled: reading restarts
/// at its beginning. Lines that are not events are counted as errors naming the file and offset.
/// </summary>
public sealed class QemuLogFollower : LiveEventSource
{
    private const int ReadSize = 64 * 1024;
    private readonly string _path;
    private readonly long _slackNs;
    private readonly Func<long> _nowRealtime;
    private readonly QemuLogEventDecoder _decoder = new();
    private byte[] _buffer = new byte[ReadSize * 2];
    private int _start;
    private int _end;
    private long _bufferFileOffset;
    private FileStream? _file;
    private long _watermark = long.MinValue;
    private bool _ended;

    /// <param name="path">The -D file.</param>
    /// <param name="slack">How long after its timestamp a line may still be written (a qemu thread preempted between stamping and writing).</param>
    /// <param name="nowRealtime">Realtime ns now, on the time scale of the merged trace (default: <paramref name="time"/>'s).</param>
    /// <param name="time">The clock of a read's wait and of the default realtime (tests pass a fake one).</param>
    public QemuLogFollower(string path, TimeSpan slack, TimeSpan pollInterval, Func<long>? nowRealtime = null, TimeProvider? time = null)
        : base(new LivePoll(pollInterval, time))
    {
        _path = path;
        _slackNs = (long)slack.TotalNanoseconds;
        _nowRealtime = nowRealtime ?? Polling.NowRealtime;
    }

    public override string Description => _path;

    public override long Watermark => _ended ? long.MaxValue : _watermark;

    /// <summary>Event lines delivered.</summary>
    public long EventsDelivered { get; private set; }

    /// <summary>Bytes of the file consumed.</summary>
    public long Position => _bufferFileOffset + _start;

    public override TraceEvent Current => _decoder.Current;

    protected override LiveReadResult Poll()
    {
        if (_ended)
            return LiveReadResult.End;
        while (true)
        {
            bool stopping = StopRequested;
            if (NextCompleteLine(out var line))
            {
                if (Deliver(line))
                    return LiveReadResult.Event;
                continue;
            }
            long before = _nowRealtime();
            if (Fill())
                continue;
            // Nothing more in the file: lines yet to come are stamped after before − slack.
            _watermark = Math.Max(_watermark, before - _slackNs);
            if (stopping)
            {
                if (_end > _start)
                    Reject(_end - _start, "last line has no end of line: cut off while being written");
                _ended = true;
                _decoder.Clear();
                return LiveReadResult.End;
            }
            return LiveReadResult.Idle;
        }
    }

    private bool NextCompleteLine(out ReadOnlySpan<byte> line)
    {
        var pending = _buffer.AsSpan(_start, _end - _start);
        int nl = pending.IndexOf((byte)'\n');
        if (nl < 0)
        {
            line = default;
            if (pending.Length >= LineReaderLimit)
            {
                Reject(pending.Length, $"line longer than {LineReaderLimit} bytes");
                _start = _end;
            }
            return false;
        }
        line = pending[..nl];
        _lineOffset = _bufferFileOffset + _start;
        _start += nl + 1;
        return true;
    }

    private const int LineReaderLimit = 64 * 1024;
    private long _lineOffset;

    /// <summary>Reads what was appended; true when bytes came.</summary>
    private bool Fill()
    {
        if (_file is null)
        {
            if (!File.Exists(_path))
                return false;
            try
            {
                _file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            }
            catch (FileNotFoundException)
            {
                return false;
            }
        }
        long length = _file.Length;
        long next = _bufferFileOffset + _end;
        if (length < next)
        {
            // Truncated or replaced: start again from the top.
            _bufferFileOffset = 0;
            _start = _end = 0;
            next = 0;
        }
        if (length == next)
            return false;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _bufferFileOffset += _start;
            _end -= _start;
            _start = 0;
        }
        if (_buffer.Length - _end < ReadSize)
            Array.Resize(ref _buffer, _buffer.Length * 2);
        _file.Position = next;
        int n = _file.Read(_buffer, _end, _buffer.Length - _end);
        _end += n;
        return n > 0;
    }

    private bool Deliver(ReadOnlySpan<byte> line)
    {
        if (line.Trim(" \t\r"u8).IsEmpty)
            return false;
        string? problem = _decoder.Decode(line, Diagnostics);
        if (problem is not null)
        {
            Reject(line.Length, problem);
            return false;
        }
        EventsDelivered++;
        return true;
    }

    private void Reject(long bytes, string problem) =>
        Diagnostics.AddError(new TraceFormatException(_path, _lineOffset, problem), bytes);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _file?.Dispose();
    }
}
