using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Vmtrace.Kafka;

namespace Vmtrace.Worker;

/// <summary>
/// The worker's view of its two dependencies. Kafka: librdkafka's error reports (dozens a second while brokers are
/// down) become one line down, a summary every <see cref="WorkerOptions.OutageSummaryInterval"/>, one line back (a
/// consumed record or a successful probe of the broker). InfluxDB: a failed write, or one that has no answer within
/// <see cref="WorkerOptions.WriteStallTimeout"/> (a server that accepts the connection and never answers), is an
/// outage the same way; the write itself keeps waiting (nothing is lost, commits wait for it).
/// </summary>
internal sealed class WorkerOutages
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _stallAfter;
    private readonly TimeSpan _probeInterval;
    private long _lastProbe;

    public WorkerOutages(TimeProvider time, WorkerOptions options, ILogger logger)
    {
        _time = time;
        _stallAfter = options.WriteStallTimeout;
        _probeInterval = TimeSpan.FromSeconds(1);
        Kafka = new OutageLog("Kafka", new DependencyOutage(time, options.OutageSummaryInterval), logger);
        Influx = new OutageLog("InfluxDB", new DependencyOutage(time, options.OutageSummaryInterval), logger);
    }

    public OutageLog Kafka { get; }

    public OutageLog Influx { get; }

    /// <summary>InfluxDB writes that had no answer within the stall timeout.</summary>
    public long WriteStalls { get; private set; }

    /// <summary>
    /// Waits for a write; past the stall timeout InfluxDB is reported down (and summarised) until the write ends.
    /// <paramref name="whileStalled"/> runs once the write is reported stalled, then every second until it ends.
    /// </summary>
    public void WaitForWrite(Task write, Func<string> heldBack, Action? whileStalled = null)
    {
        try
        {
            write.WaitAsync(_stallAfter, _time).GetAwaiter().GetResult();
            return;
        }
        catch (TimeoutException) when (!write.IsCompleted)
        {
            WriteStalls++;
            Influx.Failed($"no answer to a write within {_stallAfter.TotalSeconds:0.###} s", heldBack);
            whileStalled?.Invoke();
        }
        while (!write.IsCompleted)
        {
            try
            {
                write.WaitAsync(TimeSpan.FromSeconds(1), _time).GetAwaiter().GetResult();
            }
            catch (TimeoutException) when (!write.IsCompleted)
            {
                Influx.Tick(heldBack);
                whileStalled?.Invoke();
            }
        }
    }

    /// <summary>While Kafka is down: asks a broker for a partition's offsets once a second; an answer ends the outage.</summary>
    public void ProbeKafka(IEventsConsumer consumer, Func<string> heldBack)
    {
        if (!Kafka.Outage.IsDown || _time.GetElapsedTime(_lastProbe) < _probeInterval)
            return;
        _lastProbe = _time.GetTimestamp();
        try
        {
            consumer.QueryBroker(TimeSpan.FromMilliseconds(500));
            Kafka.Succeeded();
        }
        catch (KafkaException)
        {
            Kafka.Tick(heldBack);
        }
    }

    /// <summary>
    /// Wait before write attempt <paramref name="failures"/> + 1 while InfluxDB is down: exponential from
    /// <paramref name="first"/> up to <paramref name="max"/>, with full jitter in its upper half so that a group of
    /// workers does not retry in step.
    /// </summary>
    public static TimeSpan RetryDelay(long failures, TimeSpan first, TimeSpan max)
    {
        double exponential = first.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        double capped = Math.Min(exponential, Math.Max(first.TotalMilliseconds, max.TotalMilliseconds));
        return TimeSpan.FromMilliseconds(capped * (0.5 + 0.5 * Random.Shared.NextDouble()));
    }
}
