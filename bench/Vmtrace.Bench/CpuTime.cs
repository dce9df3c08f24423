using System.Runtime.InteropServices;

namespace Vmtrace.Bench;

/// <summary>
/// CPU time in microseconds from getrusage(2): of the calling thread (our decoder) and of the reaped child
/// processes (the reference tools). On a busy shared machine CPU time is steadier than wall time.
/// Linux only; elsewhere it reports nothing.
/// </summary>
internal static class CpuTime
{
    private const int RusageChildren = -1;
    private const int RusageThread = 1;
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>User + system seconds of this thread, or null when unavailable.</summary>
    public static double? Thread() => Read(RusageThread);

    /// <summary>
    /// CPU seconds of this thread to the nanosecond (clock_gettime CLOCK_THREAD_CPUTIME_ID), or null when
    /// unavailable. getrusage leaves out the time since the last scheduler tick (4 ms here), too coarse
    /// for runs of a few milliseconds.
    /// </summary>
    public static double? ThreadPrecise()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            return null;
        return NativeMethods.clock_gettime(ClockThreadCpuTimeId, out var ts) == 0 ? ts.Seconds + ts.Nanoseconds / 1e9 : null;
    }

    /// <summary>User + system seconds of every child this process has waited for, or null when unavailable.</summary>
    public static double? Children() => Read(RusageChildren);

    private static double? Read(int who)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            return null;
        return NativeMethods.getrusage(who, out var usage) == 0
            ? usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6
            : null;
    }

    /// <summary>The start of struct rusage on 64-bit Linux: two struct timeval, then 14 longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    /// <summary>struct timespec on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = false)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this project does not allow.
        public static extern int getrusage(int who, out RUsage usage);

        [DllImport("libc", SetLastError = false)]
        public static extern int clock_gettime(int clockId, out TimeSpec time);
#pragma warning restore SYSLIB1054
    }
}
