using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.QemuLog;

/// <summary>
/// Reads one printf-formatted argument of a qemu trace line: <c>0x…</c> (a <c>%p</c> or <c>%x</c>) is
/// unsigned and shown in hex, <c>(nil)</c> is glibc's <c>%p</c> of NULL, a decimal is signed (unsigned
/// when only a <c>uint64_t</c> holds it), anything else is text.
/// </summary>
internal static class QemuLogValue
{
    public static FieldKind Classify(ReadOnlySpan<byte> token, out long value, out int displayBase)
    {
        displayBase = 10;
        value = 0;
        if (token.Length > 2 && token[0] == (byte)'0' && (token[1] | 0x20) == (byte)'x')
        {
            if (TryParseHex(token[2..], out ulong hex))
            {
                value = (long)hex;
                displayBase = 16;
                return FieldKind.Unsigned;
            }
            return FieldKind.String;
        }
        if (token.SequenceEqual("(nil)"u8))
        {
            displayBase = 16;
            return FieldKind.Unsigned;
        }
        bool negative = token.Length > 1 && token[0] == (byte)'-';
        if (TryParseDecimal(negative ? token[1..] : token, out ulong magnitude))
        {
            if (negative)
            {
                if (magnitude <= (ulong)long.MaxValue + 1)
                {
                    value = unchecked(-(long)magnitude);
                    return FieldKind.Signed;
                }
                return FieldKind.String;
            }
            value = (long)magnitude;
            return magnitude <= long.MaxValue ? FieldKind.Signed : FieldKind.Unsigned;
        }
        return FieldKind.String;
    }

    /// <summary>Digits only, no sign, at most what a ulong holds.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> digits, out ulong value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 20)
            return false;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9)
                return false;
            if (value > (ulong.MaxValue - d) / 10)
                return false;
            value = value * 10 + d;
        }
        return true;
    }

    /// <summary>Hex digits only (1..16), either case.</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> digits, out ulong value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 16)
            return false;
        foreach (byte b in digits)
        {
            int d = HexDigit(b);
            if (d < 0)
                return false;
            value = (value << 4) | (uint)d;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HexDigit(byte b)
    {
        uint d = (uint)(b - '0');
        if (d <= 9)
            return (int)d;
        uint l = (uint)((b | 0x20) - 'a');
        return l <= 5 ? (int)l + 10 : -1;
    }
}
