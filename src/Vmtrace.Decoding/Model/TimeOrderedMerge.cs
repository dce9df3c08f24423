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
/// Merges time-ordered inputs (a trace's streams or CPUs, or several traces) into one time-ordered stream, never a
/// scan of every input per event. Ties go to the input listed first, so the order is deterministic.
/// <para>Pulled (<see cref="MoveNext"/>): a tournament tree of losers over the inputs' current times. After the
/// winner's input advances, only its path to the root is replayed: one comparison per level (7 for a 128-CPU
/// trace), where a heap would sift its key up and the next one down. Generic over a struct of inputs so that the
/// calls per event are direct and inlined.</para>
/// <para>Inputs that follow something still being written (live ring buffers, growing logs) cannot be advanced on
/// demand: their owner <see cref="Enqueue"/>s an input when it has an event and <see cref="TryTake"/>s the earliest
/// one once nothing earlier can still come (the live sources' watermark). A min-heap on the same key: same order,
/// same ties.</para>
/// </summary>
internal sealed class TimeOrderedMerge(int inputs)
{
    private readonly PriorityQueue<int, (long Timestamp, int Index)> _heap = new(Math.Max(1, inputs));
    // The pulled merge: per input its current time and tie rank (its index; int.MaxValue once it has ended, so that
    // an ended input loses to every event, even one at long.MaxValue), and the loser of each match of the tree.
    // _losers[0] is the overall winner; node p (1 ≤ p < n) plays its children 2p and 2p + 1, where position
    // n + i is input i's leaf.
    private readonly long[] _times = new long[Math.Max(1, inputs)];
    private readonly int[] _ranks = new int[Math.Max(1, inputs)];
    private readonly int[] _losers = new int[Math.Max(1, inputs)];
    private bool _started;

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
        int n = inputs.Count;
        if (!_started)
        {
            _started = true;
            if (n == 0)
                return false;
            for (int i = 0; i < n; i++)
            {
                if (inputs.Advance(i))
                    SetLeaf(i, inputs.Timestamp(i), i);
                else
                    SetLeaf(i, long.MaxValue, int.MaxValue);
            }
            BuildTree(n);
        }
        else
        {
            int current = Current;
            if (current < 0)
                return false;
            if (inputs.Advance(current))
                SetLeaf(current, inputs.Timestamp(current), current);
            else
                SetLeaf(current, long.MaxValue, int.MaxValue);
            Replay(current, n);
        }
        int winner = _losers[0];
        if (_ranks[winner] == int.MaxValue)
        {
            Current = -1;
            return false;
        }
        Current = winner;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetLeaf(int input, long time, int rank)
    {
        _times[input] = time;
        _ranks[input] = rank;
    }

    /// <summary>Input <paramref name="a"/>'s event comes before input <paramref name="b"/>'s (ties: the lower rank).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Before(int a, int b)
    {
        long ta = _times[a], tb = _times[b];
        return ta < tb || (ta == tb && _ranks[a] < _ranks[b]);
    }

    /// <summary>Plays every match bottom-up once: each node keeps its loser, the root's winner goes to <c>_losers[0]</c>.</summary>
    private void BuildTree(int n)
    {
        var winners = new int[Math.Max(1, n)];
        for (int p = n - 1; p >= 1; p--)
        {
            int left = 2 * p, right = left + 1;
            int a = left >= n ? left - n : winners[left];
            int b = right >= n ? right - n : winners[right];
            bool aWins = Before(a, b);
            winners[p] = aWins ? a : b;
            _losers[p] = aWins ? b : a;
        }
        _losers[0] = n == 1 ? 0 : winners[1];
    }

    /// <summary>Input <paramref name="input"/> has a new current event: its matches are replayed from its leaf to the root.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Replay(int input, int n)
    {
        var losers = _losers;
        int winner = input;
        for (int p = (input + n) >> 1; p >= 1; p >>= 1)
        {
            int loser = losers[p];
            if (Before(loser, winner))
            {
                losers[p] = winner;
                winner = loser;
            }
        }
        losers[0] = winner;
    }
}
