using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding;

/// <summary>The inputs a <see cref="TimeOrderedMerge"/> merges: each advances on its own and tells its current time.</summary>
internal interface IMergeInputs
{
    int Count { get; }

    /// <summary>Moves input <paramref name="index"/> to its next event; false at its end.</summary>
    bool Advance(int index);

    long Timestamp(int index);
}

/// <summary>
/// Merges time-ordered inputs (a trace's streams or CPUs, or several traces) into one time-ordered stream with a
/// min-heap, never a scan of every input per event. Ties go to the input listed first, so the order is
/// deterministic. Generic over a struct of inputs so that the calls per event are direct and inlined.
/// </summary>
internal sealed class TimeOrderedMerge(int inputs)
{
    private readonly PriorityQueue<int, (long Timestamp, int Index)> _heap = new(Math.Max(1, inputs));
    private bool _started;

    /// <summary>The input holding the current event, −1 before the first and after the last.</summary>
    public int Current { get; private set; } = -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext<T>(T inputs) where T : struct, IMergeInputs
    {
        if (!_started)
        {
            _started = true;
            for (int i = 0; i < inputs.Count; i++)
            {
                if (inputs.Advance(i))
                    _heap.Enqueue(i, (inputs.Timestamp(i), i));
            }
        }
        else if (Current >= 0 && inputs.Advance(Current))
        {
            var key = (inputs.Timestamp(Current), Current);
            // Events come in runs per input: while the current one stays first, the heap is left alone.
            if (!_heap.TryPeek(out _, out var first) || key.CompareTo(first) < 0)
                return true;
            _heap.Enqueue(Current, key);
        }
        if (_heap.TryDequeue(out int next, out _))
        {
            Current = next;
            return true;
        }
        Current = -1;
        return false;
    }
}
