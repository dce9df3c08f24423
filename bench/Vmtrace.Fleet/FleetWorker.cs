using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Vmtrace.Fleet;

/// <summary>
/// A <c>vmtrace worker</c> process (the CLI built beside this program), so that it can be SIGKILLed; its resident
/// memory and CPU time are sampled from /proc while it runs.
/// </summary>
public sealed class FleetWorker : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public FleetWorker(string instance, IReadOnlyDictionary<string, string> settings)
    {
        Instance = instance;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
        psi.ArgumentList.Add("worker");
        foreach (var (k, v) in settings)
            psi.ArgumentList.Add($"--{k}={v}");
        psi.ArgumentList.Add("--Worker:InstanceName=" + instance);
        // Partition assignments (and restores from checkpoints) are logged at Information; the rest only from Warning.
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["Logging__LogLevel__Vmtrace.Worker"] = "Information";
        Started = DateTime.UtcNow;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start vmtrace worker");
        Pid = _process.Id;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Instance { get; }

    public int Pid { get; }

    public DateTime Started { get; }

    /// <summary>When it was killed (SIGKILL), or null.</summary>
    public DateTime? Killed { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Resident memory at the last sample and its peak (VmHWM), bytes.</summary>
    public long RssBytes { get; private set; }

    public long PeakRssBytes { get; private set; }

    /// <summary>User + system CPU time at the last sample.</summary>
    public TimeSpan CpuTime { get; private set; }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Lines of its log saying a partition was assigned and resumed from a checkpoint.</summary>
    public int RestoredPartitionLines => Output.Split('\n').Count(l => l.Contains("from a checkpoint", StringComparison.Ordinal));

    /// <summary>Reads /proc/PID/status and /proc/PID/stat; keeps the last values once the process is gone.</summary>
    public void Sample()
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    RssBytes = Kib(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    PeakRssBytes = Math.Max(PeakRssBytes, Kib(line));
            }
            string stat = File.ReadAllText($"/proc/{Pid}/stat");
            // Fields after the command name (which may hold spaces) ")": state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            CpuTime = TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Gone between two samples: the last values stand.
        }
    }

    private static long Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>SIGKILL: no flush, no checkpoint, no goodbye to the group.</summary>
    public void Kill()
    {
        Sample();
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        Killed ??= DateTime.UtcNow;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Sample();
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
