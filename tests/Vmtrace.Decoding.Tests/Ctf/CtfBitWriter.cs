using System.Text;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>
/// Writes CTF binary data bit by bit for tests: integers of any size at any bit position in either
/// byte order (little-endian counts bits from the least significant bit of a byte, big-endian from the
/// most significant, as CTF 1.8 says), floats, strings, alignment, and later patches (content_size).
/// Independent of the reader's code on purpose.
/// </summary>
internal sealed class CtfBitWriter
{
    private byte[] _data = new byte[256];

    public long BitPosition { get; private set; }

    public CtfBitWriter Align(int bits)
    {
        BitPosition = (BitPosition + bits - 1) / bits * bits;
        EnsureCapacity(BitPosition);
        return this;
    }

    public CtfBitWriter Int(long value, int size, bool bigEndian = false) => Int((ulong)value, size, bigEndian);

    public CtfBitWriter Int(ulong value, int size, bool bigEndian = false)
    {
        Put(BitPosition, value, size, bigEndian);
        BitPosition += size;
        return this;
    }

    /// <summary>Overwrites an integer written earlier (sizes known only at the end).</summary>
    public void Patch(long bitPosition, ulong value, int size, bool bigEndian = false) => Put(bitPosition, value, size, bigEndian);

    public CtfBitWriter Float(float value, bool bigEndian = false) => Int(BitConverter.SingleToUInt32Bits(value), 32, bigEndian);

    public CtfBitWriter Double(double value, bool bigEndian = false) => Int(BitConverter.DoubleToUInt64Bits(value), 64, bigEndian);

    public CtfBitWriter String(string text)
    {
        Align(8);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
            Int(b, 8);
        return Int(0, 8);
    }

    /// <summary>Fixed-length text: the bytes, padded with NULs.</summary>
    public CtfBitWriter Text(string text, int length)
    {
        Align(8);
        var bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < length; i++)
            Int(i < bytes.Length ? bytes[i] : (byte)0, 8);
        return this;
    }

    /// <summary>The bytes written, padded with zeros to <paramref name="totalBytes"/> when larger.</summary>
    public byte[] ToArray(long totalBytes = 0)
    {
        long length = Math.Max((BitPosition + 7) / 8, totalBytes);
        var result = new byte[length];
        Array.Copy(_data, result, Math.Min(_data.Length, length));
        return result;
    }

    private void Put(long position, ulong value, int size, bool bigEndian)
    {
        EnsureCapacity(position + size);
        for (int i = 0; i < size; i++)
        {
            long bit = position + i;
            // Little-endian: bit i of the value is the i-th bit, LSB first. Big-endian: MSB of the value first, MSB of each byte first.
            ulong valueBit = bigEndian ? (value >> (size - 1 - i)) & 1 : (value >> i) & 1;
            int mask = bigEndian ? 0x80 >> (int)(bit % 8) : 1 << (int)(bit % 8);
            if (valueBit != 0)
                _data[bit / 8] |= (byte)mask;
            else
                _data[bit / 8] &= (byte)~mask;
        }
    }

    private void EnsureCapacity(long bits)
    {
        long bytes = (bits + 7) / 8 + 16;
        if (bytes > _data.Length)
            Array.Resize(ref _data, (int)Math.Max(bytes, _data.Length * 2));
    }
}
