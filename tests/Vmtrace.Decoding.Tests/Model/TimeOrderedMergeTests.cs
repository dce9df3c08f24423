namespace Vmtrace.Decoding.Tests.Model;

/// <summary>
/// The pulled merge gives every input's events in (time, input index) order — the order of a stable sort of all
/// events by time with the inputs listed in order — whatever the number of inputs (powers of two or not), ties,
/// empty inputs, inputs ending early, and times at the ends of the range.
/// </summary>
public class TimeOrderedMergeTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(5, 4)]
    [InlineData(7, 5)]
    [InlineData(8, 6)]
    [InlineData(13, 7)]
    [InlineData(128, 8)]
    [InlineData(129, 9)]
    public void MoveNext_RandomInputsWithTies_GivesTheStableTimeOrder(int count, int seed)
    {
        var random = new Random(seed);
        var inputs = new long[count][];
        for (int i = 0; i < count; i++)
        {
            // Some inputs empty, some long; times from a narrow range so that many events tie across inputs.
            int length = random.Next(4) == 0 ? 0 : random.Next(1, 200);
            long t = random.Next(50);
            inputs[i] = new long[length];
            for (int k = 0; k < length; k++)
            {
                t += random.Next(3);
                inputs[i][k] = t;
            }
        }

        Assert.Equal(Expected(inputs), Merge(inputs));
    }

    [Fact]
    public void MoveNext_TimesAtTheEndsOfTheRange_AreNotTakenForEndedInputs()
    {
        long[][] inputs = [[long.MaxValue], [long.MinValue, 5, long.MaxValue], [], [long.MaxValue, long.MaxValue]];

        Assert.Equal(Expected(inputs), Merge(inputs));
        Assert.Equal(6, Merge(inputs).Count);
    }

    [Fact]
    public void MoveNext_NoInputs_EndsAtOnce()
    {
        var merge = new TimeOrderedMerge(0);

        Assert.False(merge.MoveNext(new ArrayInputs([], [])));
        Assert.False(merge.MoveNext(new ArrayInputs([], [])));
        Assert.Equal(-1, merge.Current);
    }

    [Fact]
    public void MoveNext_AfterTheEnd_StaysEnded()
    {
        long[][] inputs = [[1, 2], [3]];
        var positions = new int[inputs.Length];
        var merge = new TimeOrderedMerge(inputs.Length);
        var arrays = new ArrayInputs(inputs, positions);
        int n = 0;
        while (merge.MoveNext(arrays))
            n++;

        Assert.Equal(3, n);
        Assert.False(merge.MoveNext(arrays));
        Assert.Equal(-1, merge.Current);
    }

    private static List<(long Time, int Input)> Expected(long[][] inputs) =>
        [.. inputs.SelectMany((events, i) => events.Select(t => (Time: t, Input: i))).OrderBy(e => e.Time).ThenBy(e => e.Input)];

    private static List<(long Time, int Input)> Merge(long[][] inputs)
    {
        var positions = new int[inputs.Length];
        var merge = new TimeOrderedMerge(inputs.Length);
        var arrays = new ArrayInputs(inputs, positions);
        var merged = new List<(long, int)>();
        while (merge.MoveNext(arrays))
        {
            int i = merge.Current;
            merged.Add((inputs[i][positions[i] - 1], i));
        }
        return merged;
    }

    /// <summary>Input i's events are <c>events[i]</c>; <c>positions[i]</c> counts those read (the current one is at position − 1).</summary>
    private readonly struct ArrayInputs(long[][] events, int[] positions) : IMergeInputs
    {
        public int Count => events.Length;

        public bool Advance(int index)
        {
            if (positions[index] >= events[index].Length)
                return false;
            positions[index]++;
            return true;
        }

        public long Timestamp(int index) => events[index][positions[index] - 1];
    }
}
