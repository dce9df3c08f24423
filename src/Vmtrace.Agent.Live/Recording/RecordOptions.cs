using System.Globalization;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>What <c>vmtrace record</c> records, where, and for how long.</summary>
public sealed class RecordOptions
{
    /// <summary>The recording directory: trace.dat, vmmap.json and the qemu logs go there.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>How long to record; null records until the token given to the recorder is cancelled (Ctrl-C).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Kernel events ("system:event"); empty means <see cref="TracefsEventList.Default"/>. Events the kernel lacks are skipped and listed in vmmap.json.</summary>
    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>Ring-buffer size per CPU, KiB.</summary>
    public int BufferSizeKb { get; init; } = 8192;

    /// <summary>
    /// The ftrace clock: always tai (realtime plus the kernel's whole-second TAI offset, stored in the file), the one
    /// clock whose trace.dat readers take for realtime, the clock of qemu's log lines, without trace-cmd's --date.
    /// </summary>
    public const string Clock = "tai";

    /// <summary>The ftrace instance recorded into (removed at the end); one per recorder process by default.</summary>
    public string InstanceName { get; init; } = "vmtrace-record-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public const string WriterAuto = "auto";
    public const string WriterTraceCmd = "trace-cmd";
    public const string WriterTracefs = "tracefs";

    /// <summary>Who writes trace.dat: "trace-cmd", "tracefs" (vmtrace itself, from trace_pipe_raw), or "auto" (trace-cmd when installed).</summary>
    public string Writer { get; init; } = WriterAuto;

    /// <summary>trace-cmd to run; null looks it up on PATH.</summary>
    public string? TraceCmd { get; init; }

    /// <summary>tracefs root; empty finds (or mounts) it.</summary>
    public string TracefsRoot { get; init; } = "";

    /// <summary>Where /proc is (tests point it elsewhere).</summary>
    public string Proc { get; init; } = "/proc";

    /// <summary>Copy the part of each running qemu's trace log (-D FILE) written while recording into the directory.</summary>
    public bool CopyQemuLogs { get; init; } = true;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
            throw new ArgumentException("the output directory is empty");
        if (Duration is { } d && d <= TimeSpan.Zero)
            throw new ArgumentException($"the duration must be positive, got {d}");
        if (string.IsNullOrWhiteSpace(InstanceName) || InstanceName.Contains('/', StringComparison.Ordinal) || InstanceName is "." or "..")
            throw new ArgumentException($"instance name '{InstanceName}' is not a usable directory name");
        if (Writer is not (WriterAuto or WriterTraceCmd or WriterTracefs))
            throw new ArgumentException($"writer '{Writer}' is not one of auto, trace-cmd, tracefs");
        if (BufferSizeKb < 4)
            throw new ArgumentException($"buffer size {BufferSizeKb} KiB is below one page");
        foreach (var e in Events)
        {
            int colon = e.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == e.Length - 1 || e.IndexOfAny([' ', '/']) >= 0)
                throw new ArgumentException($"event '{e}' is not 'system:event'");
        }
    }
}
