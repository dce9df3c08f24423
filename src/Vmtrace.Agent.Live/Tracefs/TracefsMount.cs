using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Native;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>Finds the tracefs mount, mounting it at /sys/kernel/tracing when it is not mounted.</summary>
public static class TracefsMount
{
    public const string DefaultRoot = "/sys/kernel/tracing";
    private const string DebugfsRoot = "/sys/kernel/debug/tracing";

    /// <summary>The tracefs root to use; mounts it when <paramref name="configured"/> (or the default) holds no tracefs.</summary>
    public static string Locate(string configured)
    {
        if (configured.Length > 0)
        {
            if (!IsTracefs(configured))
                MountAt(configured);
            return configured;
        }
        if (IsTracefs(DefaultRoot))
            return DefaultRoot;
        if (IsTracefs(DebugfsRoot))
            return DebugfsRoot;
        MountAt(DefaultRoot);
        return DefaultRoot;
    }

    /// <summary>A directory is a tracefs root when it holds the instances directory and trace_clock.</summary>
    public static bool IsTracefs(string path) => Directory.Exists(Path.Combine(path, "instances")) && File.Exists(Path.Combine(path, "trace_clock"));

    private static void MountAt(string path)
    {
        if (!Directory.Exists(path))
            throw new TracefsException($"tracefs is not mounted and {path} does not exist: is this a Linux kernel with CONFIG_TRACING?");
        if (LibC.Mount("nodev", path, "tracefs", 0, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string who = errno is LibC.EPerm or LibC.EAcces ? "not root: " : "";
            throw new TracefsException($"{who}tracefs is not mounted and mounting it at {path} failed: {LibC.Describe(errno)} (mount -t tracefs nodev {path})");
        }
        if (!IsTracefs(path))
            throw new TracefsException($"mounted tracefs at {path} but it has no instances/ or trace_clock");
    }
}
