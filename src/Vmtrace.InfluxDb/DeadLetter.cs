namespace Vmtrace.InfluxDb;

/// <summary>A line InfluxDB rejected (or that could never be sent), with the server's reason.</summary>
public readonly record struct DeadLetter(string Line, string Reason);

/// <summary>Where rejected lines go (a file, a Kafka topic, a test's list). Called before the write completes.</summary>
public interface IDeadLetterSink
{
    ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken);
}

/// <summary>
/// Keeps dead letters in memory (tests, the CLI's report), the first <see cref="Capacity"/> of them: past it a letter is
/// only counted in <see cref="Dropped"/>, so a long run of rejections cannot fill the memory.
/// </summary>
public sealed class InMemoryDeadLetterSink(int capacity = 10_000) : IDeadLetterSink
{
    private readonly List<DeadLetter> _letters = [];
    private long _dropped;

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "must be at least 1");

    public IReadOnlyList<DeadLetter> Letters
    {
        get
        {
            lock (_letters)
                return [.. _letters];
        }
    }

    /// <summary>Letters not kept because <see cref="Capacity"/> were held already.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken)
    {
        lock (_letters)
        {
            int room = Math.Max(0, Capacity - _letters.Count);
            _letters.AddRange(letters.Take(room));
            Interlocked.Add(ref _dropped, Math.Max(0, letters.Count - room));
        }
        return ValueTask.CompletedTask;
    }
}
