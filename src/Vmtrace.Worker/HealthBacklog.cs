namespace Vmtrace.Worker;

/// <summary>
/// Health points sampled while a write to InfluxDB fails or stalls: they cannot go out beside the held-back points
/// (the write in flight owns them), so they wait here with their sampling time and are written after the write
/// that ends the outage. Bounded: past <see cref="Capacity"/> the oldest is dropped and counted.
/// </summary>
internal sealed class HealthBacklog(int capacity)
{
    private readonly Queue<string> _points = new();

    public int Capacity { get; } = capacity;

    public int Count => _points.Count;

    /// <summary>Points dropped because the backlog was full (the outage outlasted Capacity health intervals).</summary>
    public long Dropped { get; private set; }

    public void Add(string point)
    {
        if (_points.Count == Capacity)
        {
            _points.Dequeue();
            Dropped++;
        }
        _points.Enqueue(point);
    }

    /// <summary>Moves every waiting point to <paramref name="pending"/>, oldest first.</summary>
    public void MoveTo(List<string> pending)
    {
        pending.AddRange(_points);
        _points.Clear();
    }
}
