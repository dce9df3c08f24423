using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Reads CTF integers at any bit position. Little-endian fields count bits from the least significant
/// bit of the first byte, big-endian ones from the most significant. Byte-aligned 8/16/32/64-bit
/// fields take the <see cref="BinaryPrimitives"/> path.
/// </summary>
internal static class BitReader
{
    /// <summary>Reads <paramref name="size"/> (1..64) bits at bit <paramref name="bitPosition"/>; the caller checked the bounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read(ReadOnlySpan<byte> data, long bitPosition, int size, bool bigEndian)
    {
        int index = (int)(bitPosition >> 3);
        int shift = (int)(bitPosition & 7);
        if (shift == 0)
        {
            switch (size)
            {
                case 8:
                    return data[index];
                case 16:
                    return bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(data[index..]) : BinaryPrimitives.ReadUInt16LittleEndian(data[index..]);
                case 32:
                    return bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[index..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[index..]);
                case 64:
                    return bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(data[index..]) : BinaryPrimitives.ReadUInt64LittleEndian(data[index..]);
            }
        }
        return ReadUnaligned(data, index, shift, size, bigEndian);
    }

    private static ulong ReadUnaligned(ReadOnlySpan<byte> data, int index, int shift, int size, bool bigEndian)
    {
        // Up to 9 bytes hold the field; near the end of the data, copy them into a padded buffer.
        if (index + 9 > data.Length)
        {
            Span<byte> padded = stackalloc byte[16];
            padded.Clear();
            int count = Math.Min(data.Length - index, 9);
            data.Slice(index, count).CopyTo(padded);
            return ReadUnaligned(padded, 0, shift, size, bigEndian);
        }
        ulong value;
        if (bigEndian)
        {
            ulong word = BinaryPrimitives.ReadUInt64BigEndian(data[index..]);
            value = word << shift;
            if (shift + size > 64)
                value |= (ulong)data[index + 8] >> (8 - shift);
            return value >> (64 - size);
        }
        else
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(data[index..]);
            value = word >> shift;
            if (shift + size > 64)
                value |= (ulong)data[index + 8] << (64 - shift);
            return size == 64 ? value : value & ((1UL << size) - 1);
        }
    }

    /// <summary>Sign-extends the low <paramref name="size"/> bits (64-bit safe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SignExtend(ulong value, int size) => size == 64 ? (long)value : (long)(value << (64 - size)) >> (64 - size);
}
