using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// <c>vmtrace worker</c>: consumes the events topic in a consumer group (cooperative-sticky), feeds each host's
/// analysis, writes closed windows to InfluxDB, and checkpoints each partition (state topic) only after InfluxDB
/// acknowledged every point the checkpointed records produced; the group offset is stored after the checkpoint. A
/// restart resumes each partition from its checkpoint, so results are exact. This class builds the Kafka clients and
/// wires the parts: <see cref="ConsumeLoop"/>, <see cref="AssignedPartitions"/>, <see cref="RecordProcessor"/>,
/// <see cref="BatchingPointWriter"/>, <see cref="PartitionCheckpointer"/>, <see cref="KafkaDeadLetters"/>,
/// <see cref="IdleHosts"/>, <see cref="HealthReporter"/>.
/// </summary>
public sealed class WorkerService : BackgroundService
{
    private readonly KafkaOptions _kafka;
    private readonly WorkerOptions _options;
    private readonly IPointWriter _points;
    private readonly ILogger<WorkerService> _logger;
    private readonly TimeProvider _time;
    private readonly WorkerOutages _outages;
    private readonly string _instance;

    public WorkerService(IOptions<KafkaOptions> kafka, IOptions<WorkerOptions> options, IPointWriter points, WorkerCounters counters,
        TimeProvider time, ILogger<WorkerService> logger)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(options);
        _kafka = kafka.Value;
        _options = options.Value;
        _points = points;
        Counters = counters;
        _time = time;
        _logger = logger;
        _outages = new WorkerOutages(_time, _options, logger);
        _instance = _options.InstanceName ?? Environment.MachineName + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    }

    public WorkerCounters Counters { get; }

    /// <summary>Kafka's and InfluxDB's state as this worker sees them.</summary>
    internal WorkerOutages Outages => _outages;

    /// <summary>Consumer lag summed over the assigned partitions at the last health report.</summary>
    public long ConsumerLag => Counters.ConsumerLag;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // ExecuteAsync already runs on a thread of its own: the blocking consume loop runs here.
        try
        {
            Run(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        return Task.CompletedTask;
    }

    private void Run(CancellationToken stop)
    {
        using var producer = new ProducerBuilder<string, byte[]>(_kafka.Apply(new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            CompressionType = CompressionType.Zstd,
            MessageMaxBytes = 64 * 1024 * 1024,
            LingerMs = 5,
        })).SetErrorHandler((_, e) => OnKafkaError(e)).Build();
        AssignedPartitions? partitions = null;
        using var kafkaConsumer = new ConsumerBuilder<string?, byte[]>(ConsumerConfig())
            .SetErrorHandler((_, e) => OnKafkaError(e))
            .SetPartitionsAssignedHandler((_, parts) => partitions!.Assign(parts))
            .SetPartitionsRevokedHandler((_, parts) => partitions!.Revoke(parts))
            .SetPartitionsLostHandler((_, parts) => partitions!.Lose(parts))
            .Build();
        try
        {
            var consumer = new KafkaEventsConsumer(kafkaConsumer, _kafka.EventsTopic);
            var store = new CheckpointStore(_kafka, _options.GroupId, producer, _time);
            var deadLetters = new KafkaDeadLetters(producer, _kafka.DeadLetterTopic, _options.MaxUndeliveredDeadLetters,
                TimeSpan.FromSeconds(30), Counters, _logger, _time);
            var processor = new RecordProcessor(_options, Counters);
            var idleHosts = new IdleHosts(_time, _options.HostIdleTimeout);
            var writer = new BatchingPointWriter(_points, consumer, _outages, Counters, _options, _time);
            var checkpointer = new PartitionCheckpointer(store, deadLetters, consumer, writer, Counters, _options, _time, _logger);
            partitions = new AssignedPartitions(store, checkpointer, idleHosts, Counters, _logger);
            var health = new HealthReporter(Counters, writer, partitions, consumer, _outages, (_points as InfluxPointWriter)?.Client.Counters,
                _instance, _options.HealthInterval, _time, _logger);
            writer.WhileHeld = () => health.ReportIfDue(writeHeld: true);
            var loop = new ConsumeLoop(consumer, partitions, processor, writer, checkpointer, deadLetters, idleHosts, health, _outages,
                _options, _time, _logger);
            kafkaConsumer.Subscribe(_kafka.EventsTopic);
            loop.Run(stop);
            kafkaConsumer.Close();
        }
        finally
        {
            producer.Flush(TimeSpan.FromSeconds(10));
        }
    }

    private ConsumerConfig ConsumerConfig() => _kafka.Apply(new ConsumerConfig
    {
        GroupId = _options.GroupId,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        EnableAutoCommit = true,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        IsolationLevel = IsolationLevel.ReadCommitted,
        // A fetch finding nothing waits this long at most; librdkafka's mock cluster does not answer early when a
        // record arrives meanwhile, so the default 500 ms would be added to every window's lag there.
        FetchWaitMaxMs = 50,
    });

    /// <summary>librdkafka reports every failed connection attempt: a fatal error is logged as such, the rest as an outage.</summary>
    private void OnKafkaError(Error e)
    {
        if (e.IsFatal)
            WorkerLog.KafkaError(_logger, e.Reason, e.IsFatal);
        else
            _outages.Kafka.Failed(e.Reason, () => $"{Counters.PendingPoints} point(s) waiting, consumer lag {ConsumerLag} at the last health report");
    }
}
