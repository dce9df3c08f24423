using System.Globalization;
using System.Text;

namespace Vmtrace.InfluxDb;

/// <summary>
/// Writes InfluxDB line protocol: <c>measurement,tag=v,… field=v,… timestamp</c>, one point per line,
/// with the escaping the protocol requires: in measurements commas and spaces; in tag keys, tag values
/// and field keys commas, equals signs and spaces; in string field values double quotes and backslashes.
/// Integers carry the <c>i</c> suffix; timestamps are ns. In measurements, keys and <see cref="Tag"/> values
/// (vmtrace's are fixed identifiers) newlines become spaces. Names from traces (VM, host and thread names) go through
/// <see cref="NameTag"/>: what InfluxDB 1.x line protocol cannot carry in a tag value is encoded (<see cref="EncodeTagValue"/>).
/// Empty tag values are left out (the protocol forbids them); NaN and infinities are left out.
/// Use: <c>Begin → Tag* → Field+ → End</c>.
/// </summary>
public sealed class LineProtocolWriter
{
    private readonly StringBuilder _out;
    private bool _inPoint;
    private bool _anyField;
    private int _pointStart;

    public LineProtocolWriter(StringBuilder output)
    {
        _out = output;
    }

    public LineProtocolWriter Begin(string measurement)
    {
        if (_inPoint)
            throw new InvalidOperationException("the previous point was not ended");
        if (string.IsNullOrEmpty(measurement))
            throw new ArgumentException("a measurement needs a name", nameof(measurement));
        _pointStart = _out.Length;
        _inPoint = true;
        _anyField = false;
        Escape(measurement, keysAndTags: false);
        return this;
    }

    /// <summary>
    /// A tag whose value vmtrace chooses (a number, a fixed word): escaped, a newline becomes a space. Names from traces
    /// or configuration (host, VM, thread) go through <see cref="NameTag"/>, which keeps every name apart.
    /// </summary>
    public LineProtocolWriter Tag(string key, string? value)
    {
        EnsurePoint();
        if (_anyField)
            throw new InvalidOperationException("tags come before fields");
        if (string.IsNullOrEmpty(value) || string.IsNullOrEmpty(key))
            return this;
        _out.Append(',');
        Escape(key, keysAndTags: true);
        _out.Append('=');
        Escape(value, keysAndTags: true);
        return this;
    }

    /// <summary>
    /// A tag whose value is a name from a trace or the configuration (host, VM, thread, instance): stored exactly when
    /// line protocol can carry it, else reversibly encoded (<see cref="EncodeTagValue"/>), so every point is stored and
    /// no name can reach another tag, field or series.
    /// </summary>
    public LineProtocolWriter NameTag(string key, string? value) => Tag(key, value is null ? null : EncodeTagValue(value));

    /// <summary>The escape character of <see cref="EncodeTagValue"/>: U+29F5 REVERSE SOLIDUS OPERATOR, "⧵".</summary>
    public const char TagEscape = '\u29F5';

    /// <summary>
    /// A tag value as stored: unchanged unless it holds what InfluxDB 1.x line protocol cannot carry in a tag value,
    /// a line feed or carriage return (they end the line) or a final backslash (it would escape the delimiter after
    /// it), or the escape character ⧵ (U+29F5) itself. Then ⧵ becomes ⧵⧵, a line feed ⧵n, a carriage return ⧵r, and a
    /// value ending in a backslash gets a final ⧵. The encoding is reversible (<see cref="DecodeTagValue"/>), so no two
    /// names share a series. Unpaired UTF-16 surrogates become U+FFFD, as UTF-8 sends them.
    /// </summary>
    public static string EncodeTagValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        bool plain = value.Length == 0 || value[^1] != '\\';
        for (int i = 0; plain && i < value.Length; i++)
        {
            char c = value[i];
            if (c is '\n' or '\r' or TagEscape || char.IsSurrogate(c))
                plain = false;
        }
        if (plain)
            return value;
        var sb = new StringBuilder(value.Length + 4);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                sb.Append(c).Append(value[++i]);
                continue;
            }
            _ = c switch
            {
                TagEscape => sb.Append(TagEscape).Append(TagEscape),
                '\n' => sb.Append(TagEscape).Append('n'),
                '\r' => sb.Append(TagEscape).Append('r'),
                _ when char.IsSurrogate(c) => sb.Append('\uFFFD'),
                _ => sb.Append(c),
            };
        }
        if (sb.Length > 0 && sb[^1] == '\\')
            sb.Append(TagEscape);
        return sb.ToString();
    }

    /// <summary>The name a stored tag value stands for: the inverse of <see cref="EncodeTagValue"/>.</summary>
    public static string DecodeTagValue(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!stored.Contains(TagEscape, StringComparison.Ordinal))
            return stored;
        var sb = new StringBuilder(stored.Length);
        for (int i = 0; i < stored.Length; i++)
        {
            char c = stored[i];
            if (c != TagEscape)
            {
                sb.Append(c);
                continue;
            }
            if (i + 1 == stored.Length)
                break; // the mark after a final backslash
            char next = stored[++i];
            sb.Append(next switch
            {
                'n' => '\n',
                'r' => '\r',
                _ => next,
            });
        }
        return sb.ToString();
    }

    public LineProtocolWriter Field(string key, long value)
    {
        FieldKey(key);
        _out.Append(value.ToString(CultureInfo.InvariantCulture)).Append('i');
        return this;
    }

    public LineProtocolWriter Field(string key, double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            return this;
        FieldKey(key);
        _out.Append(value.ToString("R", CultureInfo.InvariantCulture));
        return this;
    }

    public LineProtocolWriter Field(string key, bool value)
    {
        FieldKey(key);
        _out.Append(value ? "true" : "false");
        return this;
    }

    /// <summary>A string field; one holding a line feed or carriage return (a VM's name quoted in an episode's advice) is stored encoded as <see cref="EncodeTagValue"/> does: they would end the point's line.</summary>
    public LineProtocolWriter Field(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
            value = EncodeTagValue(value);
        FieldKey(key);
        _out.Append('"');
        foreach (char c in value)
        {
            if (c is '"' or '\\')
                _out.Append('\\');
            _out.Append(c);
        }
        _out.Append('"');
        return this;
    }

    /// <summary>Ends the point with its timestamp (ns). A point without fields is dropped (the protocol needs one).</summary>
    public void End(long timestampNs)
    {
        EnsurePoint();
        _inPoint = false;
        if (!_anyField)
        {
            _out.Length = _pointStart;
            return;
        }
        _out.Append(' ').Append(timestampNs.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private void FieldKey(string key)
    {
        EnsurePoint();
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException("a field needs a key", nameof(key));
        _out.Append(_anyField ? ',' : ' ');
        _anyField = true;
        Escape(key, keysAndTags: true);
        _out.Append('=');
    }

    private void Escape(string text, bool keysAndTags)
    {
        foreach (char c in text)
        {
            char ch = c is '\n' or '\r' ? ' ' : c;
            if (ch is ',' or ' ' || (keysAndTags && ch == '='))
                _out.Append('\\');
            _out.Append(ch);
        }
    }

    private void EnsurePoint()
    {
        if (!_inPoint)
            throw new InvalidOperationException("Begin a point first");
    }
}
