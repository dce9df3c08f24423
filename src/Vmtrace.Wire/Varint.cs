using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vmtrace.Wire;

/// <summary>Protobuf base-128 varints and zigzag, read from a byte array with explicit bounds (no allocation).</summary>
internal static class Varint
{
    public const int MaxLength = 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Size(ulong v) => v == 0 ? 1 : (70 - BitOperations.LeadingZeroCount(v)) / 7;

    /// <summary>Reads a varint at <paramref name="pos"/> (absolute index in <paramref name="data"/>), stopping at <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read(byte[] data, ref int pos, int end, string what)
    {
        if (pos < end)
        {
            byte b = data[pos];
            if (b < 0x80)
            {
                pos++;
                return b;
            }
        }
        return ReadSlow(data, ref pos, end, what);
    }

    /// <summary>Like <see cref="Read"/>, but false instead of an exception (the caller names the column in its own message).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(byte[] data, ref int pos, int end, out ulong value)
    {
        if (pos < end && data[pos] < 0x80)
        {
            value = data[pos++];
            return true;
        }
        return TryReadSlow(data, ref pos, end, out value);
    }

    private static bool TryReadSlow(byte[] data, ref int pos, int end, out ulong value)
    {
        value = 0;
        int p = pos;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (p >= end)
                return false;
            byte b = data[p++];
            if (shift == 63 && b > 1)
                return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                pos = p;
                return true;
            }
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadSlow(byte[] data, ref int pos, int end, string what)
    {
        ulong result = 0;
        int start = pos;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (pos >= end)
                throw new WireFormatException(start, $"{what}: varint cut short at byte {pos} (the field or record ends there)");
            byte b = data[pos++];
            if (shift == 63 && b > 1)
                throw new WireFormatException(start, $"{what}: varint longer than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return result;
        }
        throw new WireFormatException(start, $"{what}: varint longer than {MaxLength} bytes");
    }
}
