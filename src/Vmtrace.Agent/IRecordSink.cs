namespace Vmtrace.Agent;

/// <summary>Where the agent's records go (Kafka in production; a list in tests).</summary>
public interface IRecordSink
{
    /// <summary>Queues one record for delivery. Blocks while the bounded buffer is full (never drops); throws once a record could not be delivered.</summary>
    void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken);

    /// <summary>Waits until every queued record is acknowledged; throws when one was not or the timeout passed.</summary>
    void Flush(TimeSpan timeout);
}
