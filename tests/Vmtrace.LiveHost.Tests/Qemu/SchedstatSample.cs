using System.Globalization;

namespace Vmtrace.LiveHost.Tests.Qemu;

/// <summary>The kernel's accounting of one thread: /proc/PID/task/TID/schedstat = on-CPU ns, run-queue wait ns, slices.</summary>
public readonly record struct ThreadSchedstat(int Pid, int Tid, string Comm, long RunNs, long WaitNs);

/// <summary>schedstat of every thread of some processes, read at one instant.</summary>
public static class SchedstatSample
{
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
