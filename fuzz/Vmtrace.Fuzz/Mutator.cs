namespace Vmtrace.Fuzz;

/// <summary>The kinds of damage <see cref="Mutator"/> does to a copy of a trace.</summary>
internal enum MutationKind
{
    /// <summary>1–8 single bits flipped at random offsets.</summary>
    BitFlips,
    /// <summary>1–4 places overwritten with a boundary value (0, -1, 0x7f…, 0x80…) of 1, 2, 4 or 8 bytes.</summary>
    InterestingValues,
    /// <summary>The file cut at a random offset.</summary>
    Truncation,
    /// <summary>A chunk of up to 4 KiB copied and inserted at another offset.</summary>
    ChunkDuplication,
}

/// <summary>
/// Deterministic damage to trace files: the same seed gives the same mutated bytes on every machine
/// (<see cref="Random"/> with a seed is a fixed algorithm), so a failing copy can be made again from its seed.
/// </summary>
internal static class Mutator
{
    private static readonly ulong[] Interesting =
    [
        0, ulong.MaxValue, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0x0000_0001_0000_0000, 0x10, 0x1000, 0x100000,
    ];

    public static MutationKind KindOf(int seed) => (MutationKind)(Math.Abs(seed % 4));

    /// <summary>A mutated copy of <paramref name="original"/>: the kind is picked by the seed, the details by a <see cref="Random"/> of that seed.</summary>
    public static byte[] Mutate(ReadOnlySpan<byte> original, int seed) => Mutate(original, seed, KindOf(seed));

    public static byte[] Mutate(ReadOnlySpan<byte> original, int seed, MutationKind kind)
    {
        var random = new Random(seed);
        if (original.IsEmpty)
            return [];
        switch (kind)
        {
            case MutationKind.BitFlips:
            {
                var copy = original.ToArray();
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                return copy;
            }
            case MutationKind.InterestingValues:
            {
                var copy = original.ToArray();
                int places = random.Next(1, 5);
                for (int i = 0; i < places; i++)
                {
                    int width = 1 << random.Next(4);
                    ulong value = Interesting[random.Next(Interesting.Length)];
                    int at = random.Next(copy.Length);
                    bool bigEndian = random.Next(2) == 1;
                    for (int b = 0; b < width && at + b < copy.Length; b++)
                    {
                        int shift = 8 * (bigEndian ? width - 1 - b : b);
                        copy[at + b] = (byte)(value >> shift);
                    }
                }
                return copy;
            }
            case MutationKind.Truncation:
                return original[..random.Next(original.Length)].ToArray();
            case MutationKind.ChunkDuplication:
            {
                int length = random.Next(1, Math.Min(4096, original.Length) + 1);
                int from = random.Next(original.Length - length + 1);
                int to = random.Next(original.Length + 1);
                var copy = new byte[original.Length + length];
                original[..to].CopyTo(copy);
                original.Slice(from, length).CopyTo(copy.AsSpan(to));
                original[to..].CopyTo(copy.AsSpan(to + length));
                return copy;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
