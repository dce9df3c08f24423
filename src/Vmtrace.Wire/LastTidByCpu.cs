using System.Runtime.CompilerServices;

namespace Vmtrace.Wire;

/// <summary>
/// The tid of each CPU's previous event in a batch (slot 0 for CPU −1): the wire stores a tid only when it
/// changes on its CPU, and the writer and the reader must keep the same table. A mutable struct kept in a field.
/// </summary>
internal struct LastTidByCpu
{
    private int[] _slots;
    private int _used;

    public LastTidByCpu() => _slots = new int[8];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref int For(int cpu)
    {
        int i = cpu + 1;
        if (i >= _used)
            Grow(i);
        return ref _slots[i];
    }

    /// <summary>Every CPU back to tid 0, as at the start of a batch.</summary>
    public void Reset()
    {
        Array.Clear(_slots, 0, _used);
        _used = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int i)
    {
        if (i >= _slots.Length)
            Array.Resize(ref _slots, Math.Max(i + 1, _slots.Length * 2));
        _used = i + 1;
    }
}
