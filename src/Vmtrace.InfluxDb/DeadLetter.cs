namespace Vmtrace.InfluxDb;

/// <summary>A line InfluxDB rejected (or that could never be sent), with the server's reason.</summary>
public readonly record struct DeadLetter(string Line, string Reason);

/// <summary>Where rejected lines go (a file, a Kafka topic, a test's list). Called before the write completes.</summary>
public interface IDeadLetterSink
{
    ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken);
}

/// <summary>Keeps dead letters in memory (tests, the CLI's report).</summary>
public sealed class InMemoryDeadLetterSink : IDeadLetterSink
{
    private readonly List<DeadLetter> _letters = [];

    public IReadOnlyList<DeadLetter> Letters
    {
        get
        {
            lock (_letters)
                return [.. _letters];
        }
    }

    public ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken)
    {
        lock (_letters)
            _letters.AddRange(letters);
        return ValueTask.CompletedTask;
    }
}
