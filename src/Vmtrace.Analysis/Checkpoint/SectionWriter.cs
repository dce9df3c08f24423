using System.Text;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// Writes one checkpoint section's payload: little-endian integers and doubles, booleans as one byte,
/// counts and string lengths as 7-bit encoded integers, strings as UTF-8.
/// </summary>
internal sealed class SectionWriter : IDisposable
{
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _out;

    public SectionWriter()
    {
        _out = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
    }

    public void Int64(long value) => _out.Write(value);

    public void Int32(int value) => _out.Write(value);

    public void Byte(byte value) => _out.Write(value);

    public void Bool(bool value) => _out.Write(value);

    public void Double(double value) => _out.Write(value);

    public void Count(int count) => _out.Write7BitEncodedInt(count);

    public void String(string value) => _out.Write(value);

    public void Bytes(ReadOnlySpan<byte> value)
    {
        _out.Write7BitEncodedInt(value.Length);
        _out.Write(value);
    }

    public void NullableInt64(long? value)
    {
        _out.Write(value.HasValue);
        if (value is long v)
            _out.Write(v);
    }

    /// <summary>The payload written so far.</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            _out.Flush();
            return _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
        }
    }

    public void Dispose()
    {
        _out.Dispose();
        _buffer.Dispose();
    }
}
