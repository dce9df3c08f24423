namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// Parses one line of qemu's <c>log</c> trace backend with <c>-msg timestamp=on</c>:
/// <c>TID@SECONDS.MICROS:event_name args</c>. The arguments are whatever the event's printf format
/// wrote; they are read as "key value" or "key=value" pairs, values without a key become "argN", and a
/// parenthesised annotation after a value ("9 (running)") becomes the text field "KEY_label". Trailing
/// ',' and ':' on keys and values are dropped. Reuses its field array: no allocation per line.
/// </summary>
internal sealed class QemuLogLineParser
{
    /// <summary>More arguments than this on one line is not a qemu trace event.</summary>
    public const int MaxFields = 128;

    private const int MaxSecondsDigits = 10;
    private const int MaxFractionDigits = 9;
    private const ulong MaxSeconds = (ulong)(long.MaxValue / 1_000_000_000L) - 1;

    private readonly ParsedField[] _fields = new ParsedField[MaxFields];

    public int Tid { get; private set; }
    public long Timestamp { get; private set; }
    public int NameStart { get; private set; }
    public int NameLength { get; private set; }
    public int FieldCount { get; private set; }
    public ReadOnlySpan<ParsedField> Fields => _fields.AsSpan(0, FieldCount);

    /// <summary>Parses <paramref name="line"/>; null on success, else what is wrong (a constant, no allocation).</summary>
    public string? Parse(ReadOnlySpan<byte> line)
    {
        FieldCount = 0;
        int pos = 0;
        if (!ReadDigits(line, ref pos, 10, out ulong tid) || tid > int.MaxValue || !Expect(line, ref pos, (byte)'@'))
            return "no 'TID@SECONDS.MICROS:' prefix (a qemu message, or a log written without -msg timestamp=on)";
        Tid = (int)tid;

        if (!ReadDigits(line, ref pos, MaxSecondsDigits, out ulong seconds) || !Expect(line, ref pos, (byte)'.'))
            return "bad SECONDS.MICROS timestamp";
        if (seconds > MaxSeconds)
            return "timestamp out of range";
        int fractionStart = pos;
        if (!ReadDigits(line, ref pos, MaxFractionDigits, out ulong fraction) || !Expect(line, ref pos, (byte)':'))
            return "bad SECONDS.MICROS timestamp";
        int fractionDigits = pos - 1 - fractionStart;
        for (int i = fractionDigits; i < MaxFractionDigits; i++)
            fraction *= 10;
        Timestamp = (long)seconds * 1_000_000_000L + (long)fraction;

        NameStart = pos;
        while (pos < line.Length && IsNameByte(line[pos]))
            pos++;
        NameLength = pos - NameStart;
        if (NameLength == 0)
            return "no event name after the timestamp";
        if (pos < line.Length && !IsBlank(line[pos]))
            return "bad character in the event name";

        return ParseArguments(line, pos);
    }

    private string? ParseArguments(ReadOnlySpan<byte> line, int pos)
    {
        int pendingKeyStart = -1, pendingKeyLength = 0;
        int positional = 0;
        while (NextToken(line, ref pos, out int start, out int length))
        {
            if (FieldCount == MaxFields)
                return "more than 128 arguments";
            var token = line.Slice(start, length);

            if (pendingKeyStart < 0 && token[0] == (byte)'(' && FieldCount > 0 && !_fields[FieldCount - 1].IsLabel)
            {
                int end = start + length;
                while (line[end - 1] != (byte)')' && NextToken(line, ref pos, out int nextStart, out int nextLength))
                    end = nextStart + nextLength;
                int textEnd = line[end - 1] == (byte)')' ? end - 1 : end;
                ref var labelled = ref _fields[FieldCount - 1];
                ref var label = ref _fields[FieldCount++];
                label = labelled;
                label.IsLabel = true;
                label.Kind = FieldKind.String;
                label.DisplayBase = 10;
                label.Value = 0;
                label.TextStart = start + 1;
                label.TextLength = textEnd - (start + 1);
                continue;
            }

            int eq = token.IndexOf((byte)'=');
            int quoteStart = token[0] == (byte)'"' ? start
                : eq > 0 && eq + 1 < length && token[eq + 1] == (byte)'"' ? start + eq + 1
                : -1;
            if (quoteStart >= 0)
            {
                // A quoted string may hold blanks: it runs to the token that closes the quote.
                length = ExtendQuoted(line, ref pos, quoteStart, start + length) - start;
                token = line.Slice(start, length);
            }
            length = TrimTrailing(token, (byte)',');
            token = token[..length];
            if (pendingKeyStart >= 0)
            {
                Add(pendingKeyStart, pendingKeyLength, -1, line, start, length);
                pendingKeyStart = -1;
                continue;
            }
            if (eq > 0 && IsKey(token[..eq]))
            {
                Add(start, eq, -1, line, start + eq + 1, length - eq - 1);
                continue;
            }
            int keyLength = TrimTrailing(token, (byte)':');
            if (keyLength > 0 && IsKey(token[..keyLength]))
            {
                pendingKeyStart = start;
                pendingKeyLength = keyLength;
                continue;
            }
            Add(0, 0, positional++, line, start, length);
        }
        if (pendingKeyStart >= 0)
        {
            if (FieldCount == MaxFields)
                return "more than 128 arguments";
            Add(pendingKeyStart, pendingKeyLength, -1, line, pos, 0);
        }
        return null;
    }

    private void Add(int keyStart, int keyLength, int position, ReadOnlySpan<byte> line, int valueStart, int valueLength)
    {
        ref var f = ref _fields[FieldCount++];
        f.KeyStart = keyStart;
        f.KeyLength = keyLength;
        f.Position = position;
        f.IsLabel = false;
        var value = line.Slice(valueStart, valueLength);
        f.Kind = QemuLogValue.Classify(value, out f.Value, out int displayBase);
        f.DisplayBase = (byte)displayBase;
        f.TextStart = valueStart;
        f.TextLength = valueLength;
        // A quoted string ("%s" written as "\"%s\"") keeps its text without the quotes.
        if (f.Kind == FieldKind.String && valueLength >= 2 && value[0] == (byte)'"' && value[^1] == (byte)'"')
        {
            f.TextStart++;
            f.TextLength -= 2;
        }
    }

    /// <summary>End of a quoted value that opens at <paramref name="quoteStart"/>: the first later '"' at a token's end.</summary>
    private static int ExtendQuoted(ReadOnlySpan<byte> line, ref int pos, int quoteStart, int tokenEnd)
    {
        int end = tokenEnd;
        while (!(end - quoteStart >= 2 && EndsQuote(line[..end])) && NextToken(line, ref pos, out int nextStart, out int nextLength))
            end = nextStart + nextLength;
        return end;
    }

    private static bool EndsQuote(ReadOnlySpan<byte> text)
    {
        int n = TrimTrailing(text, (byte)',');
        return n > 0 && text[n - 1] == (byte)'"';
    }

    private static bool NextToken(ReadOnlySpan<byte> line, ref int pos, out int start, out int length)
    {
        while (pos < line.Length && IsBlank(line[pos]))
            pos++;
        start = pos;
        while (pos < line.Length && !IsBlank(line[pos]))
            pos++;
        length = pos - start;
        return length > 0;
    }

    private static int TrimTrailing(ReadOnlySpan<byte> token, byte c)
    {
        int n = token.Length;
        while (n > 0 && token[n - 1] == c)
            n--;
        return n;
    }

    private static bool ReadDigits(ReadOnlySpan<byte> line, ref int pos, int maxDigits, out ulong value)
    {
        int start = pos;
        value = 0;
        while (pos < line.Length && pos - start < maxDigits && (uint)(line[pos] - '0') <= 9)
            value = value * 10 + (uint)(line[pos++] - '0');
        return pos > start;
    }

    private static bool Expect(ReadOnlySpan<byte> line, ref int pos, byte c)
    {
        if (pos >= line.Length || line[pos] != c)
            return false;
        pos++;
        return true;
    }

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t';

    private static bool IsNameByte(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b == (byte)'_';

    /// <summary>An identifier: a letter or '_' first, then letters, digits, '_', '.', '-'.</summary>
    private static bool IsKey(ReadOnlySpan<byte> token)
    {
        if (token.IsEmpty || !((uint)((token[0] | 0x20) - 'a') <= 'z' - 'a' || token[0] == (byte)'_'))
            return false;
        foreach (byte b in token)
        {
            if (!IsNameByte(b) && b is not ((byte)'.' or (byte)'-'))
                return false;
        }
        return true;
    }
}
