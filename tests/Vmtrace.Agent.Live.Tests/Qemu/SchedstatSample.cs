using System.Globalization;
using System.Runtime.InteropServices;

namespace Vmtrace.Agent.Live.Tests.Qemu;

/// <summary>The kernel's accounting of one thread: /proc/PID/task/TID/schedstat = on-CPU ns, run-queue wait ns, slices.</summary>
public readonly record struct ThreadSchedstat(int Pid, int Tid, string Comm, long RunNs, long WaitNs);

/// <summary>
/// schedstat of every thread of some processes, read at one instant: the reading thread runs SCHED_FIFO
/// while it reads, so a loaded host (other builds, the guests themselves) cannot preempt it in the middle
/// of a sample and spread "one instant" over tens of milliseconds.
/// </summary>
public static class SchedstatSample
{
    [DllImport("libc", SetLastError = true, EntryPoint = "sched_setscheduler")]
    private static extern int SetScheduler(int pid, int policy, ref int priority);

    /// <summary>Runs <paramref name="read"/> at real-time priority (falls back to normal priority when not allowed).</summary>
    public static T AtRealtimePriority<T>(Func<T> read)
    {
        int fifo = 50, normal = 0;
        bool boosted = SetScheduler(0, 1, ref fifo) == 0;
        try
        {
            return read();
        }
        finally
        {
            if (boosted)
                SetScheduler(0, 0, ref normal);
        }
    }

    public static Dictionary<int, ThreadSchedstat> Read(IEnumerable<int> pids)
    {
        var all = new Dictionary<int, ThreadSchedstat>();
        foreach (int pid in pids)
        {
            string tasks = $"/proc/{pid}/task";
            if (!Directory.Exists(tasks))
                continue;
            foreach (var dir in Directory.EnumerateDirectories(tasks))
            {
                try
                {
                    int tid = int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                    var parts = File.ReadAllText(Path.Combine(dir, "schedstat")).Split(' ');
                    string comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
                    all[tid] = new ThreadSchedstat(pid, tid, comm, long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
                }
                catch (IOException)
                {
                    // thread exited
                }
            }
        }
        return all;
    }
}
