using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Vmtrace.InfluxDb;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>What the worker's parts did, in order, across the fakes below (the order is what makes restarts exact).</summary>
internal sealed class StepLog
{
    public List<string> Steps { get; } = [];

    public void Add(string step) => Steps.Add(step);
}

/// <summary>
/// A consumer playing a script: each <see cref="Consume"/> takes the next step (a record, an exception, an action such
/// as a revocation librdkafka would run inside the call, or nothing). A call that returns nothing lets the fake clock
/// run for its timeout, as the real call would block that long.
/// </summary>
internal sealed class ScriptedConsumer(FakeTimeProvider time, StepLog? log = null) : IEventsConsumer
{
    public const string Topic = "vmtrace.events";
    private readonly Queue<Func<ConsumeResult<string?, byte[]>?>> _script = new();

    public Dictionary<int, long> HighWatermarks { get; } = [];

    public bool Paused { get; private set; }

    public int Pauses { get; private set; }

    public int Resumes { get; private set; }

    public List<(int Partition, long Offset)> StoredOffsets { get; } = [];

    public List<TopicPartitionOffset> Seeks { get; } = [];

    /// <summary>Runs once the script is over (typically: cancel the loop).</summary>
    public Action WhenDone { get; set; } = () => { };

    public ScriptedConsumer Record(int partition, long offset, byte[]? value, string key = "host-a")
    {
        _script.Enqueue(() => new ConsumeResult<string?, byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset(Topic, partition, offset),
            Message = new Message<string?, byte[]> { Key = key, Value = value! },
        });
        return this;
    }

    public ScriptedConsumer Throw(ErrorCode code, bool fatal, int partition, long offset)
    {
        _script.Enqueue(() =>
        {
            var record = new ConsumeResult<byte[], byte[]> { TopicPartitionOffset = new TopicPartitionOffset(Topic, partition, offset) };
            throw new ConsumeException(record, new Error(code, "scripted " + code, fatal));
        });
        return this;
    }

    public ScriptedConsumer Then(Action action)
    {
        _script.Enqueue(() =>
        {
            action();
            return null;
        });
        return this;
    }

    public ConsumeResult<string?, byte[]>? Consume(TimeSpan timeout)
    {
        ConsumeResult<string?, byte[]>? result = null;
        if (_script.Count > 0)
            result = _script.Dequeue()();
        else
            WhenDone();
        if (result is null)
            time.Advance(timeout);
        return result;
    }

    public void PauseAll()
    {
        Paused = true;
        Pauses++;
    }

    public void ResumeAll()
    {
        Paused = false;
        Resumes++;
    }

    public void Seek(TopicPartitionOffset offset) => Seeks.Add(offset);

    public void StoreOffset(int partition, long offset)
    {
        StoredOffsets.Add((partition, offset));
        log?.Add($"store offset {partition}@{offset}");
    }

    public long HighWatermark(int partition) => HighWatermarks.TryGetValue(partition, out long high) ? high : -1;

    public void QueryBroker(TimeSpan timeout)
    {
    }
}

/// <summary>Points go to a list; the next <see cref="FailNext"/> writes throw as InfluxDB being down would.</summary>
internal sealed class ListPointWriter(StepLog? log = null) : IPointWriter
{
    public List<string[]> Writes { get; } = [];

    public int FailNext { get; set; }

    public int Attempts { get; private set; }

    public Task<PointWriteResult> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        Attempts++;
        if (FailNext > 0)
        {
            FailNext--;
            log?.Add($"write of {lines.Count} failed");
            return Task.FromException<PointWriteResult>(new InfluxWriteException("scripted: connection refused"));
        }
        Writes.Add([.. lines]);
        log?.Add($"write {lines.Count}");
        return Task.FromResult(new PointWriteResult(lines.Count, 0, 0));
    }
}

internal sealed class MemoryCheckpointStore(StepLog? log = null) : ICheckpointStore
{
    public Dictionary<int, byte[]> Saved { get; } = [];

    public Exception? LoadFails { get; set; }

    public PartitionState? Load(int partition)
    {
        if (LoadFails is not null)
            throw LoadFails;
        return Saved.TryGetValue(partition, out var value) ? PartitionCheckpoint.Decode(value, partition) : null;
    }

    public int Save(PartitionState state)
    {
        var value = PartitionCheckpoint.Encode(state);
        Saved[state.Partition] = value;
        log?.Add($"checkpoint {state.Partition}@{state.NextOffset}");
        return value.Length;
    }
}

internal sealed class ListDeadLetters(StepLog? log = null) : IRecordDeadLetters
{
    public List<(ConsumeResult<string?, byte[]> Record, RecordOutcome Outcome)> Sent { get; } = [];

    public void Send(ConsumeResult<string?, byte[]> record, RecordOutcome outcome)
    {
        Sent.Add((record, outcome));
        log?.Add($"dead letter {record.Partition.Value}@{record.Offset.Value}");
    }

    public void Flush() => log?.Add("dead letters flushed");
}

internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Text)> Written { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Written)
            Written.Add((logLevel, formatter(state, exception)));
    }
}

/// <summary>The worker's parts wired as <see cref="WorkerService"/> wires them, over the fakes above and a fake clock.</summary>
internal sealed class WorkerParts
{
    public WorkerParts(WorkerOptions? options = null)
    {
        Options = options ?? new WorkerOptions { FlushInterval = TimeSpan.FromHours(1), CheckpointInterval = TimeSpan.FromHours(1), HealthInterval = TimeSpan.FromHours(1) };
        Consumer = new ScriptedConsumer(Time, Steps);
        Writer = new ListPointWriter(Steps);
        Store = new MemoryCheckpointStore(Steps);
        DeadLetters = new ListDeadLetters(Steps);
        Outages = new WorkerOutages(Time, Options, Log);
        Processor = new RecordProcessor(Options, Counters);
        IdleHosts = new IdleHosts(Time, Options.HostIdleTimeout);
        Points = new BatchingPointWriter(Writer, Consumer, Outages, Counters, Options, Time);
        Checkpointer = new PartitionCheckpointer(Store, DeadLetters, Consumer, Points, Counters, Options, Time, Log);
        Partitions = new AssignedPartitions(Store, Checkpointer, IdleHosts, Counters, Log);
        Health = new HealthReporter(Counters, Points, Partitions, Consumer, Outages, influx: null, "test", Options.HealthInterval, Time, Log);
        Points.WhileHeld = () => Health.ReportIfDue(writeHeld: true);
        Loop = new ConsumeLoop(Consumer, Partitions, Processor, Points, Checkpointer, DeadLetters, IdleHosts, Health, Outages, Options, Time, Log);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    public StepLog Steps { get; } = new();
    public ListLogger Log { get; } = new();
    public WorkerCounters Counters { get; } = new();
    public WorkerOptions Options { get; }
    public ScriptedConsumer Consumer { get; }
    public ListPointWriter Writer { get; }
    public MemoryCheckpointStore Store { get; }
    public ListDeadLetters DeadLetters { get; }
    public WorkerOutages Outages { get; }
    public RecordProcessor Processor { get; }
    public IdleHosts IdleHosts { get; }
    public BatchingPointWriter Points { get; }
    public PartitionCheckpointer Checkpointer { get; }
    public AssignedPartitions Partitions { get; }
    public HealthReporter Health { get; }
    public ConsumeLoop Loop { get; }

    public PartitionState Assign(int partition)
    {
        Partitions.Assign([new TopicPartition(ScriptedConsumer.Topic, partition)]);
        Assert.True(Partitions.TryGet(partition, out var state));
        return state;
    }

    /// <summary>An agent health record: it becomes exactly one point, touching no analysis.</summary>
    public static byte[] AgentHealth(long sampledAtUnixNs, string host = "host-a") =>
        new HostRecordWriter(host, "s1").AgentHealth(new WireAgentHealth { SampledAtUnixNs = sampledAtUnixNs, EventsRead = 1 });
}
