using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live;

/// <summary>
/// Settings of the live agent (section <c>Live</c>; env <c>VMTRACE__LIVE__…</c>): which sources run and how.
/// Any combination: tracefs alone (no qemu log backend), tracefs + qemu logs (disk per VM from qemu's own
/// events), an LTTng session with rotation instead of tracefs, or both.
/// </summary>
public sealed class LiveOptions
{
    public const string Section = "Live";

    /// <summary>Host id (Kafka key, InfluxDB host tag). Default: the machine's host name.</summary>
    public string? HostId { get; set; }

    /// <summary>Trace the host through the agent's own ftrace instance.</summary>
    public bool Tracefs { get; set; } = true;

    public TracefsOptions TracefsSettings { get; set; } = new();

    /// <summary>Follow the log-backend trace file (-D) of every qemu that has one.</summary>
    public bool QemuLogs { get; set; } = true;

    /// <summary>How long after its stamp a qemu log line may still be written.</summary>
    public TimeSpan QemuLogSlack { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Output directory of an LTTng session with rotation to follow (empty: none).</summary>
    public string LttngSessionOutput { get; set; } = "";

    /// <summary>Where the LTTng follower keeps the last chunk it delivered.</summary>
    public string StateDirectory { get; set; } = "/var/lib/vmtrace-agent";

    /// <summary>/proc and libvirt's runtime directory (tests point them elsewhere).</summary>
    public string Proc { get; set; } = "/proc";
    public string LibvirtRun { get; set; } = "/run/libvirt/qemu";

    /// <summary>Sleep of a merge with nothing to release.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    public IEnumerable<string> Problems()
    {
        if (!Tracefs && LttngSessionOutput.Length == 0)
            yield return "Live: neither Tracefs nor LttngSessionOutput is set: there is nothing to trace";
        if (LttngSessionOutput.Length > 0 && !Directory.Exists(LttngSessionOutput))
            yield return $"Live:LttngSessionOutput '{LttngSessionOutput}' does not exist";
        string? tracefsProblem = null;
        try
        {
            TracefsSettings.Validate();
        }
        catch (ArgumentException ex)
        {
            tracefsProblem = ex.Message;
        }
        if (Tracefs && tracefsProblem is not null)
            yield return tracefsProblem;
    }
}
