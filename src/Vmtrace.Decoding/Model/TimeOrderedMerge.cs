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
/// <para>Inputs that follow something still being written (live ring buffers, growing logs) cannot be advanced on
/// demand: their owner <see cref="Enqueue"/>s an input when it has an event and <see cref="TryTake"/>s the earliest
/// one once nothing earlier can still come (the live sources' watermark). Same heap, same order, same ties.</para>
/// </summary>
internal sealed class TimeOrderedMerge(int inputs)
{
    private readonly PriorityQueue<int, (long Timestamp, int Index)> _heap = new(Math.Max(1, inputs));
    private bool _started;
    private long _firstTimestamp;
    private int _firstIndex;

    /// <summary>The input holding the current event, −1 before the first and after the last.</summary>
    public int Current { get; private set; } = -1;

    /// <summary>Inputs waiting with an event (live use).</summary>
    public int Waiting => _heap.Count;

    /// <summary>Input <paramref name="index"/> has an event at <paramref name="timestamp"/>: it waits to be taken (live use).</summary>
    public void Enqueue(int index, long timestamp) => _heap.Enqueue(index, (timestamp, index));

    /// <summary>The earliest waiting event's time, if any (live use).</summary>
    public bool TryPeek(out long timestamp)
    {
        bool any = _heap.TryPeek(out _, out var key);
        timestamp = key.Timestamp;
        return any;
    }

    /// <summary>
    /// Takes the input with the earliest waiting event if that event is at or before <paramref name="limit"/>; it becomes
    /// <see cref="Current"/> (live use: the owner enqueues it again once it has its next event).
    /// </summary>
    public bool TryTake(long limit, out long timestamp)
    {
        if (_heap.TryPeek(out int top, out var key) && key.Timestamp <= limit)
        {
            _heap.Dequeue();
            Current = top;
            timestamp = key.Timestamp;
            return true;
        }
        timestamp = 0;
        return false;
    }

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
            long timestamp = inputs.Timestamp(Current);
            // Events come in runs per input: while the current one stays first, the heap is left alone (the heap's
            // first key is kept aside, so staying first costs one comparison).
            if (_heap.Count == 0 || timestamp < _firstTimestamp || (timestamp == _firstTimestamp && Current < _firstIndex))
                return true;
            _heap.Enqueue(Current, (timestamp, Current));
        }
        if (_heap.TryDequeue(out int next, out _))
        {
            Current = next;
            if (_heap.TryPeek(out _, out var first))
                (_firstTimestamp, _firstIndex) = first;
            return true;
        }
        Current = -1;
        return false;
    }
}
