namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>tid → comm of every thread alive now (/proc/*/task/*/comm): the names events of threads that do not exec or rename later need.</summary>
public static class ProcThreadNames
{
    public static Dictionary<int, string> Read(string proc = "/proc")
    {
        var names = new Dictionary<int, string>();
        foreach (var pidDir in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(pidDir), out _))
                continue;
            try
            {
                foreach (var taskDir in Directory.EnumerateDirectories(Path.Combine(pidDir, "task")))
                {
                    if (int.TryParse(Path.GetFileName(taskDir), out int tid))
                        names[tid] = File.ReadAllText(Path.Combine(taskDir, "comm")).TrimEnd('\n');
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked: nothing to name.
            }
        }
        return names;
    }
}
