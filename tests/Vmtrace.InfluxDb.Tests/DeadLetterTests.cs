namespace Vmtrace.InfluxDb.Tests;

/// <summary>The in-memory dead-letter sink is bounded: what does not fit is counted, not kept.</summary>
public class DeadLetterTests
{
    [Fact]
    public async Task InMemorySink_PastItsCapacity_KeepsTheFirstAndCountsTheRest()
    {
        var sink = new InMemoryDeadLetterSink(capacity: 3);

        await sink.WriteAsync([new DeadLetter("m v=1i 1", "a"), new DeadLetter("m v=2i 2", "b")], CancellationToken.None);
        await sink.WriteAsync([new DeadLetter("m v=3i 3", "c"), new DeadLetter("m v=4i 4", "d"), new DeadLetter("m v=5i 5", "e")], CancellationToken.None);

        Assert.Equal(["m v=1i 1", "m v=2i 2", "m v=3i 3"], sink.Letters.Select(l => l.Line));
        Assert.Equal(2, sink.Dropped);
    }

    [Fact]
    public void InMemorySink_CapacityBelowOne_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryDeadLetterSink(capacity: 0));
}
