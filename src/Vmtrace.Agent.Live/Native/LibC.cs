using System.Runtime.InteropServices;

namespace Vmtrace.Agent.Live.Native;

/// <summary>The few libc calls .NET does not expose: non-blocking reads of trace_pipe_raw, clocks, mount, signals to a child.</summary>
internal static class LibC
{
    public const int ORdOnly = 0;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int EAcces = 13;
    public const int EPerm = 1;
    public const int ENoEnt = 2;

    public const int ClockRealtime = 0;
    public const int ClockMonotonic = 1;
    public const int ClockBoottime = 7;
    public const int ClockTai = 11;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "read")]
    public static extern nint Read(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true, EntryPoint = "close")]
    public static extern int Close(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "clock_gettime")]
    public static extern int ClockGetTime(int clock, out TimeSpec time);

    public const int SigInt = 2;
    public const int SigKill = 9;

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    public static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    public static extern uint GetEuid();

    [DllImport("libc", SetLastError = true, EntryPoint = "mount")]
    public static extern int Mount([MarshalAs(UnmanagedType.LPUTF8Str)] string source, [MarshalAs(UnmanagedType.LPUTF8Str)] string target,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string fsType, ulong flags, nint data);

    /// <summary>Reads a clock in ns; throws when the kernel does not have it.</summary>
    public static long Now(int clock)
    {
        if (ClockGetTime(clock, out var ts) != 0)
            throw new InvalidOperationException($"clock_gettime({clock}) failed: errno {Marshal.GetLastPInvokeError()}");
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
