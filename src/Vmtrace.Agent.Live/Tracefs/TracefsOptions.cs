namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>Configuration of the tracefs live source (section "Tracefs" of the agent's configuration).</summary>
public sealed class TracefsOptions
{
    /// <summary>Where tracefs is (or is to be mounted). Empty: /sys/kernel/tracing, then /sys/kernel/debug/tracing.</summary>
    public string Root { get; set; } = "";

    /// <summary>Name of the agent's own ftrace instance (instances/&lt;name&gt;). One agent per name.</summary>
    public string InstanceName { get; set; } = "vmtrace-agent";

    /// <summary>Ring-buffer size per CPU, KiB.</summary>
    public int BufferSizeKb { get; set; } = 8192;

    /// <summary>ftrace clock: mono (default), boot or tai. Timestamps are delivered in realtime ns either way.</summary>
    public string Clock { get; set; } = "mono";

    /// <summary>Events to enable ("system:event"); empty means <see cref="TracefsEventList.Default"/>. Events the kernel lacks are reported, not fatal.</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>
    /// How far behind "now" a CPU whose buffer was found empty may still deliver an event (an event is stamped
    /// when reserved and readable when committed; interrupts can nest in between). Events are released in
    /// order up to min over CPUs of (last empty read − this).
    /// </summary>
    public TimeSpan ReorderSlack { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Sleep between reads when every CPU buffer is empty.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Overwrite the oldest pages when the reader falls behind (the kernel default) instead of dropping new events.</summary>
    public bool Overwrite { get; set; } = true;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(InstanceName) || InstanceName.Contains('/') || InstanceName is "." or "..")
            throw new ArgumentException($"Tracefs:InstanceName '{InstanceName}' is not a usable directory name");
        if (BufferSizeKb < 4)
            throw new ArgumentException($"Tracefs:BufferSizeKb {BufferSizeKb} is below one page");
        TraceClockChoice.Parse(Clock);
        if (ReorderSlack < TimeSpan.Zero || PollInterval <= TimeSpan.Zero)
            throw new ArgumentException("Tracefs:ReorderSlack must be ≥ 0 and Tracefs:PollInterval > 0");
    }
}
