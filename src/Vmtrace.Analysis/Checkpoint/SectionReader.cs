using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// Reads one checkpoint section's payload as <see cref="SectionWriter"/> wrote it. Every failure is a
/// <see cref="CheckpointFormatException"/> naming the section and the byte within it.
/// </summary>
internal sealed class SectionReader
{
    private readonly byte[] _data;
    private readonly int _start;
    private readonly int _end;
    private int _pos;

    public SectionReader(CheckpointSection section, byte[] data, int start, int length)
    {
        Section = section;
        _data = data;
        _start = start;
        _end = start + length;
        _pos = start;
    }

    public CheckpointSection Section { get; }

    public bool AtEnd => _pos == _end;

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public byte Byte() => Take(1)[0];

    public bool Bool() => Take(1)[0] switch
    {
        0 => false,
        1 => true,
        var b => throw Damaged("a boolean of value " + b.ToString(CultureInfo.InvariantCulture)),
    };

    public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public long? NullableInt64() => Bool() ? Int64() : null;

    /// <summary>A count of items each taking at least <paramref name="minItemBytes"/> bytes: more than the section holds is damage.</summary>
    public int Count(int minItemBytes = 1)
    {
        int n = SevenBitInt();
        if (n < 0 || (long)n * Math.Max(1, minItemBytes) > _end - _pos)
            throw Damaged("a count of " + n.ToString(CultureInfo.InvariantCulture) + " items, more than the section holds");
        return n;
    }

    /// <summary>A non-negative number written with <see cref="SectionWriter.Count"/> that is not a count (a bucket, a reason).</summary>
    public int Index()
    {
        int n = SevenBitInt();
        return n >= 0 ? n : throw Damaged("a negative index");
    }

    public string String()
    {
        int n = Count();
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(n));
        }
        catch (DecoderFallbackException)
        {
            throw Damaged("a string that is not UTF-8");
        }
    }

    public ReadOnlySpan<byte> Bytes() => Take(Count());

    /// <summary>An enum value stored as a byte, checked against its highest defined value.</summary>
    public byte Enum(string what, byte max)
    {
        byte b = Byte();
        return b <= max ? b : throw Damaged($"{what} {b}");
    }

    /// <summary>An index into a table of <paramref name="count"/> items read before, or -1 for none.</summary>
    public int Reference(string what, int count)
    {
        int i = Int32();
        return i >= -1 && i < count ? i : throw Damaged($"{what} {i} (of {count})");
    }

    /// <summary>The section must be read to its end: bytes left over mean it was written by another layout.</summary>
    public void ExpectEnd()
    {
        if (_pos != _end)
            throw Damaged((_end - _pos).ToString(CultureInfo.InvariantCulture) + " bytes left over");
    }

    public CheckpointFormatException Damaged(string what) => new(
        $"analysis checkpoint section '{CheckpointSections.Name(Section)}' damaged at byte {(_pos - _start).ToString(CultureInfo.InvariantCulture)} of {(_end - _start).ToString(CultureInfo.InvariantCulture)}: {what}");

    private int SevenBitInt()
    {
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = Take(1)[0];
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return (int)result;
        }
        throw Damaged("a malformed 7-bit encoded number");
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > _end - _pos)
            throw Damaged($"{n.ToString(CultureInfo.InvariantCulture)} bytes wanted past the section's end");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }
}
