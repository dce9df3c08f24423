namespace Vmtrace.Decoding.QemuLog;

/// <summary>One line handed out by <see cref="LineReader"/>.</summary>
internal enum LineStatus
{
    /// <summary>A line ended by '\n' (the '\n' and a '\r' before it are not part of the text).</summary>
    Complete,
    /// <summary>The file ends without a final '\n': the writer was probably cut off mid-line.</summary>
    Unterminated,
    /// <summary>A line longer than <see cref="LineReader.MaxLineLength"/>: skipped whole, no text handed out.</summary>
    TooLong,
}

/// <summary>
/// Splits a file into lines from one preallocated buffer: no allocation per line. A line is a span into
/// the buffer, valid until the next call. Knows each line's number and byte offset for error messages.
/// </summary>
internal sealed class LineReader : IDisposable
{
    /// <summary>Longest line kept whole; qemu's trace lines are a few hundred bytes at most.</summary>
    public const int MaxLineLength = 64 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private long _bufferFileOffset;
    private bool _endOfFile;

    public LineReader(Stream stream, int bufferSize = 1 << 20)
    {
        _stream = stream;
        _buffer = new byte[Math.Max(bufferSize, MaxLineLength + 1)];
    }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Byte offset in the file of the line last returned.</summary>
    public long LineOffset { get; private set; }

    /// <summary>Bytes the line last returned occupies in the file, terminator and skipped tail included.</summary>
    public long LineSpan { get; private set; }

    /// <summary>Bytes consumed so far.</summary>
    public long Position => _bufferFileOffset + _start;

    public bool TryReadLine(out ReadOnlySpan<byte> line, out LineStatus status)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline > MaxLineLength)
            {
                LineNumber++;
                LineOffset = Position;
                LineSpan = newline + 1;
                _start += newline + 1;
                line = default;
                status = LineStatus.TooLong;
                return true;
            }
            if (newline >= 0)
            {
                line = Take(newline, newline + 1);
                status = LineStatus.Complete;
                return true;
            }
            if (_endOfFile)
            {
                if (_end == _start)
                {
                    line = default;
                    status = LineStatus.Complete;
                    return false;
                }
                line = Take(_end - _start, _end - _start);
                status = LineStatus.Unterminated;
                return true;
            }
            if (_end - _start >= MaxLineLength)
            {
                LineNumber++;
                LineOffset = Position;
                LineSpan = SkipPastNextNewline();
                line = default;
                status = LineStatus.TooLong;
                return true;
            }
            Fill();
        }
    }

    private ReadOnlySpan<byte> Take(int textLength, int consumed)
    {
        LineNumber++;
        LineOffset = Position;
        LineSpan = consumed;
        int textStart = _start;
        int text = textLength;
        if (text > 0 && _buffer[textStart + text - 1] == (byte)'\r')
            text--;
        _start += consumed;
        return _buffer.AsSpan(textStart, text);
    }

    /// <summary>Discards the current line up to and including its '\n' (or the end of the file); returns the bytes skipped.</summary>
    private long SkipPastNextNewline()
    {
        long skipped = 0;
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                _start += nl + 1;
                return skipped + nl + 1;
            }
            skipped += _end - _start;
            _start = _end;
            Fill();
            if (_endOfFile && _start == _end)
                return skipped;
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            int live = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, live);
            _bufferFileOffset += _start;
            _start = 0;
            _end = live;
        }
        int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
            _endOfFile = true;
        _end += read;
    }

    public void Dispose() => _stream.Dispose();
}
