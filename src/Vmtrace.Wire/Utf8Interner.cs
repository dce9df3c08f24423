using System.Runtime.CompilerServices;

namespace Vmtrace.Wire;

/// <summary>
/// A per-batch string table: each distinct UTF-8 string gets an index, looked up by its bytes with an
/// open-addressing hash table over one byte arena. Cleared per batch, reused: no allocation per event.
/// </summary>
internal sealed class Utf8Interner
{
    private byte[] _arena = new byte[1024];
    private int _arenaUsed;
    private int[] _offsets = new int[64];
    private int[] _lengths = new int[64];
    private int _count;
    private int[] _table = new int[128]; // index + 1, 0 = empty

    public int Count => _count;

    public ReadOnlySpan<byte> this[int index] => _arena.AsSpan(_offsets[index], _lengths[index]);

    public void Clear()
    {
        if (_count > 0)
            Array.Clear(_table);
        _count = 0;
        _arenaUsed = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Intern(ReadOnlySpan<byte> text)
    {
        int mask = _table.Length - 1;
        int h = Hash(text) & mask;
        while (true)
        {
            int e = _table[h];
            if (e == 0)
                return Add(text, h);
            int i = e - 1;
            if (text.SequenceEqual(_arena.AsSpan(_offsets[i], _lengths[i])))
                return i;
            h = (h + 1) & mask;
        }
    }

    private static int Hash(ReadOnlySpan<byte> text)
    {
        uint h = 2166136261;
        foreach (byte b in text)
            h = (h ^ b) * 16777619;
        return (int)(h ^ (h >> 15));
    }

    private int Add(ReadOnlySpan<byte> text, int bucket)
    {
        if (_arena.Length - _arenaUsed < text.Length)
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaUsed + text.Length));
        if (_count == _offsets.Length)
        {
            Array.Resize(ref _offsets, _count * 2);
            Array.Resize(ref _lengths, _count * 2);
        }
        text.CopyTo(_arena.AsSpan(_arenaUsed));
        int index = _count++;
        _offsets[index] = _arenaUsed;
        _lengths[index] = text.Length;
        _arenaUsed += text.Length;
        _table[bucket] = index + 1;
        if (_count * 2 > _table.Length)
            Rehash();
        return index;
    }

    private void Rehash()
    {
        _table = new int[_table.Length * 2];
        int mask = _table.Length - 1;
        for (int i = 0; i < _count; i++)
        {
            int h = Hash(this[i]) & mask;
            while (_table[h] != 0)
                h = (h + 1) & mask;
            _table[h] = i + 1;
        }
    }
}
