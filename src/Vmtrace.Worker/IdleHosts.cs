namespace Vmtrace.Worker;

/// <summary>
/// Ends the session of a host that sent nothing at all (no event, heartbeat or inventory) for
/// <see cref="WorkerOptions.HostIdleTimeout"/> of wall time: its agent or the host itself is gone, so no heartbeat will
/// ever close its open window. The window is closed at the host's last event or watermark, as a session end would,
/// and the host is forgotten; a record of it arriving later starts a new analysis.
/// </summary>
internal sealed class IdleHosts(TimeProvider time, TimeSpan timeout)
{
    private readonly Dictionary<(int Partition, string Host), long> _lastSeen = [];

    /// <summary>A record of <paramref name="hostId"/> arrived in <paramref name="partition"/>.</summary>
    public void Seen(int partition, string? hostId)
    {
        if (hostId is not null)
            _lastSeen[(partition, hostId)] = time.GetTimestamp();
    }

    /// <summary>Hosts of <paramref name="state"/> silent for the timeout (a host restored from a checkpoint counts from its first sweep).</summary>
    public List<HostStream> Expired(PartitionState state)
    {
        long now = time.GetTimestamp();
        var expired = new List<HostStream>();
        foreach (var host in state.Hosts.Values)
        {
            var key = (state.Partition, host.HostId);
            if (!_lastSeen.TryGetValue(key, out long seen))
                _lastSeen[key] = seen = now;
            else if (time.GetElapsedTime(seen, now) >= timeout)
                expired.Add(host);
        }
        foreach (var host in expired)
            _lastSeen.Remove((state.Partition, host.HostId));
        return expired;
    }

    /// <summary>The partition is no longer this worker's.</summary>
    public void Forget(int partition)
    {
        foreach (var key in _lastSeen.Keys.Where(k => k.Partition == partition).ToList())
            _lastSeen.Remove(key);
    }
}
