using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vmtrace.Kafka;

namespace Vmtrace.Agent;

/// <summary>
/// <c>vmtrace agent</c>: runs the <see cref="AgentPipeline"/> for the configured source into Kafka, logs its
/// counters periodically, and on stop (or the end of a replay) flushes every buffered record before leaving.
/// </summary>
public sealed class AgentService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly IAgentSource _source;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<AgentService> _logger;
    private readonly TimeProvider _time;

    public AgentService(IOptions<AgentOptions> options, IOptions<KafkaOptions> kafka, IAgentSource source,
        IHostApplicationLifetime lifetime, ILogger<AgentService> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kafka);
        _options = options.Value;
        _kafka = kafka.Value;
        _source = source;
        _lifetime = lifetime;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public AgentCounters Counters { get; } = new();

    /// <summary>Completes when the replay was sent and acknowledged (or failed).</summary>
    public Task Completion => _done.Task;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // ExecuteAsync runs on a thread of its own: the blocking replay loop runs here.
        if (_source.IsLive)
            AgentLog.StartingLive(_logger, _source.Description, _source.HostId);
        else
            AgentLog.Starting(_logger, _source.Description, _source.HostId, _options.Speed);
        // librdkafka reports every failed connection attempt: an outage is one line down, a summary every
        // HealthInterval while it lasts (what is buffered meanwhile), one line back at the next acknowledged record.
        var kafka = new OutageLog("Kafka", new DependencyOutage(_time, _options.HealthInterval), _logger);
        using var sink = new KafkaRecordSink(_kafka, _options.MaxBufferedKiB, Counters,
            e =>
            {
                if (e.IsFatal)
                    AgentLog.KafkaError(_logger, e.Reason);
                else
                    kafka.Failed(e.Reason, BufferedNow);
            },
            kafka.Succeeded, _time, RecordCompression.TryParse(_options.Compression, out var compression, out string? problem)
                ? compression : throw new InvalidOperationException(problem));
        using var health = _time.CreateTimer(_ =>
        {
            kafka.Tick(BufferedNow);
            if (!kafka.Outage.IsDown)
                LogHealth();
        }, null, _options.HealthInterval, _options.HealthInterval);
        try
        {
            // A live source returns only once stopped, drained and sent (its ftrace instance removed).
            new AgentPipeline(_source, sink, _options, Counters, _time).Run(stoppingToken);
            sink.Flush(_options.ShutdownFlushTimeout);
            LogHealth();
            double bytesPerEvent = Counters.EventsSent == 0 ? 0 : (double)Counters.BatchBytes / Counters.EventsSent;
            if (_source.IsLive)
                AgentLog.StoppedLive(_logger, Counters.EventsSent, Counters.Batches, bytesPerEvent, Counters.TracerLostEvents);
            else
                AgentLog.Done(_logger, _source.Description, Counters.EventsSent, Counters.Batches, bytesPerEvent);
            _done.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped: what was produced is flushed, nothing queued is dropped silently.
            TryFlush(sink);
            _done.TrySetCanceled(stoppingToken);
        }
        catch (RawCyclesInputException ex)
        {
            // Nothing was sent: the input is refused before its first record, in one line.
            AgentLog.Refused(_logger, ex.Message);
            Environment.ExitCode = 1;
            _done.TrySetException(ex);
        }
        catch (Exception ex)
        {
            AgentLog.Failed(_logger, ex, ex.Message);
            TryFlush(sink);
            LogHealth();
            Environment.ExitCode = 1;
            _done.TrySetException(ex);
            throw;
        }
        finally
        {
            if (_options.StopWhenDone)
                _lifetime.StopApplication();
        }
        return Task.CompletedTask;
    }

    private string BufferedNow() =>
        $"{Counters.BufferedRecords} record(s) ({Counters.BufferedBytes / 1024} KiB of {Counters.BufferCapacityBytes / 1024} KiB) buffered, source blocked {Counters.BufferFullWaits} time(s)";

    private void TryFlush(KafkaRecordSink sink)
    {
        try
        {
            sink.Flush(_options.ShutdownFlushTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or Confluent.Kafka.KafkaException)
        {
            // Kafka unreachable at the stop: one line with what is lost, no stack trace.
            AgentLog.NotFlushed(_logger, Counters.BufferedRecords, Counters.BufferedBytes / 1024, ex.Message);
        }
    }

    private void LogHealth() => AgentLog.Health(_logger, Counters.EventsRead, Counters.EventsSent, Counters.EventsSkipped, Counters.Batches,
        Counters.BatchBytes, Counters.Delivered, Counters.DeliveryErrors, Counters.BufferFullWaits, Counters.TracerLostEvents);
}
