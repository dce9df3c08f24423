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

    /// <summary>
    /// What this machine lacks for the selected sources, checked when the agent starts so that it stops with a
    /// clear message instead of failing on its first read: tracefs needs root (or CAP_SYS_ADMIN) and a kernel
    /// with tracing. <paramref name="procSelfStatus"/> is /proc/self/status (tests give another).
    /// </summary>
    public IEnumerable<string> HostProblems(string procSelfStatus = "/proc/self/status")
    {
        if (!Tracefs)
            yield break;
        var (euid, capEff) = ReadIdentity(procSelfStatus);
        const int CapSysAdmin = 21;
        if (euid != 0 && (capEff >> CapSysAdmin & 1) == 0)
            yield return $"Live:Tracefs: not root (euid {euid}) and no CAP_SYS_ADMIN: the tracefs source cannot make its ftrace instance or read the ring buffers; run as root (see deploy/systemd/vmtrace-agent.service) or set Live:Tracefs=false";
        string root = TracefsSettings.Root;
        if (root.Length > 0 ? !Directory.Exists(root) : !Directory.Exists(TracefsMount.DefaultRoot) && !Directory.Exists("/sys/kernel/debug/tracing"))
            yield return $"Live:Tracefs: tracefs is missing ({(root.Length > 0 ? root : TracefsMount.DefaultRoot)} does not exist): this kernel has no tracing (CONFIG_TRACING) or /sys is not mounted; set Live:TracefsSettings:Root or Live:Tracefs=false";
    }

    private static (long Euid, ulong CapEff) ReadIdentity(string procSelfStatus)
    {
        long euid = -1;
        ulong capEff = 0;
        foreach (string line in File.ReadLines(procSelfStatus))
        {
            // "Uid:\treal\teffective\tsaved\tfs", "CapEff:\t000001ffffffffff"
            var parts = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 2 && parts[0] == "Uid:")
                euid = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            else if (parts.Length > 1 && parts[0] == "CapEff:")
                capEff = ulong.Parse(parts[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        }
        return (euid, capEff);
    }
}
