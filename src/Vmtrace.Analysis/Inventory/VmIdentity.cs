namespace Vmtrace.Analysis;

/// <summary>
/// How a VM was identified, strongest first: what every output reports per VM. <see cref="Guess"/> is
/// reported as a warning.
/// </summary>
public static class VmIdentity
{
    /// <summary>From a vmmap.json written beside the trace.</summary>
    public const string Vmmap = "vmmap";

    /// <summary>From the qemu process's command line (/proc, live).</summary>
    public const string Cmdline = "cmdline";

    /// <summary>From thread-group ids the trace carries (LTTng statedump and pid contexts, fork events' tgids).</summary>
    public const string Tgid = "tgid";

    /// <summary>From creation events (task_newtask clone flags, sched_process_fork/exec parentage).</summary>
    public const string Fork = "fork";

    /// <summary>From thread names alone (vhost-PID names its qemu process).</summary>
    public const string Names = "names";

    /// <summary>Inferred: threads grouped by who wakes whom, or a vCPU thread with no process at all.</summary>
    public const string Guess = "guess";
}
