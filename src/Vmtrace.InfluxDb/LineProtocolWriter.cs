using System.Globalization;
using System.Text;

namespace Vmtrace.InfluxDb;

/// <summary>
/// Writes InfluxDB line protocol: <c>measurement,tag=v,… field=v,… timestamp</c>, one point per line,
/// with the escaping the protocol requires: in measurements commas and spaces; in tag keys, tag values
/// and field keys commas, equals signs and spaces; in string field values double quotes and backslashes.
/// Integers carry the <c>i</c> suffix; timestamps are ns. Newlines cannot be escaped, so they become
/// spaces; empty tag values are left out (the protocol forbids them); NaN and infinities are left out.
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

    public LineProtocolWriter Field(string key, string value)
    {
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
