using System.Globalization;
using System.Text;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>
/// The agent's own ftrace instance (<c>instances/&lt;name&gt;</c>): other ftrace users (trace-cmd, perf, the
/// top-level buffer) are not disturbed. A lock file makes one agent own a name; an instance left by a run
/// that crashed is removed before a new one is made; <see cref="Dispose"/> stops tracing and removes it.
/// </summary>
public sealed class TracefsInstance : IDisposable
{
    private readonly FileStream _lock;
    private FileStream? _marker;
    private bool _disposed;

    private TracefsInstance(string root, string name, string path, FileStream lockFile)
    {
        Root = root;
        Name = name;
        InstancePath = path;
        _lock = lockFile;
    }

    public string Root { get; }
    public string Name { get; }
    public string InstancePath { get; }

    /// <summary>True when a leftover instance of a previous run (crashed agent) was removed at creation.</summary>
    public bool RemovedStale { get; private set; }

    /// <summary>Events switched on ("system:event").</summary>
    public List<string> EnabledEvents { get; } = [];

    /// <summary>Events asked for that this kernel does not have (kvm without the kvm module, nested events…).</summary>
    public List<string> MissingEvents { get; } = [];

    /// <summary>Bytes per ring-buffer page (sub-buffer) as read from trace_pipe_raw.</summary>
    public int PageSize { get; private set; }

    public int CpuCount { get; private set; }

    /// <summary>Creates (after removing a stale one) and configures the instance; tracing is not on yet.</summary>
    public static TracefsInstance Create(TracefsOptions options, TraceClockChoice clock)
    {
        options.Validate();
        string root = TracefsMount.Locate(options.Root);
        string path = Path.Combine(root, "instances", options.InstanceName);
        var lockFile = TakeLock(options.InstanceName);
        var instance = new TracefsInstance(root, options.InstanceName, path, lockFile);
        try
        {
            instance.Setup(options, clock);
            return instance;
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    private static FileStream TakeLock(string name)
    {
        string dir = Directory.Exists("/run") && IsWritable("/run") ? "/run" : Path.GetTempPath();
        string lockPath = Path.Combine(dir, $"vmtrace-tracefs-{name}.lock");
        try
        {
            // FileShare.None takes an advisory flock: released by the kernel when the process dies.
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new TracefsException($"another vmtrace agent owns the ftrace instance '{name}' (lock {lockPath} is held): stop it or set Tracefs:InstanceName", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw TracefsException.For("create the lock file", lockPath, ex);
        }
    }

    private static bool IsWritable(string dir)
    {
        try
        {
            return (File.GetUnixFileMode(dir) & UnixFileMode.UserWrite) != 0 && Environment.UserName == "root";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Setup(TracefsOptions options, TraceClockChoice clock)
    {
        if (Directory.Exists(InstancePath))
        {
            // We hold the lock, so no live agent owns it: a previous run died without cleaning up.
            Remove();
            RemovedStale = true;
        }
        try
        {
            Directory.CreateDirectory(InstancePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw TracefsException.For("create the ftrace instance", InstancePath, ex);
        }
        if (!File.Exists(Path.Combine(InstancePath, "trace_clock")))
            throw new TracefsException($"created {InstancePath} but it is not an ftrace instance (no trace_clock): is {Root} tracefs?");

        WriteControl("tracing_on", "0");
        WriteControl("trace_clock", clock.Name);
        WriteControl("buffer_size_kb", options.BufferSizeKb.ToString(CultureInfo.InvariantCulture));
        if (File.Exists(Path.Combine(InstancePath, "options", "overwrite")))
            WriteControl("options/overwrite", options.Overwrite ? "1" : "0");
        string subbuf = Path.Combine(InstancePath, "buffer_subbuf_size_kb");
        PageSize = File.Exists(subbuf) ? int.Parse(File.ReadAllText(subbuf).Trim(), CultureInfo.InvariantCulture) * 1024 : Environment.SystemPageSize;
        CpuCount = Directory.GetDirectories(Path.Combine(InstancePath, "per_cpu"), "cpu*").Length;

        var events = options.Events.Count > 0 ? options.Events : TracefsEventList.Default;
        foreach (var ev in events)
        {
            var (system, name) = Split(ev);
            string enable = Path.Combine(InstancePath, "events", system, name, "enable");
            if (!File.Exists(enable))
            {
                MissingEvents.Add(ev);
                continue;
            }
            WriteControl($"events/{system}/{name}/enable", "1");
            EnabledEvents.Add(ev);
        }
        if (EnabledEvents.Count == 0)
            throw new TracefsException($"none of the {events.Count} configured events exist under {InstancePath}/events");
    }

    private static (string System, string Name) Split(string ev)
    {
        int colon = ev.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == ev.Length - 1)
            throw new ArgumentException($"event '{ev}' is not 'system:event'");
        return (ev[..colon], ev[(colon + 1)..]);
    }

    /// <summary>The ring-buffer page layout, from events/header_page.</summary>
    public RingBufferPageLayout ReadPageLayout()
    {
        string text = ReadText(Path.Combine(Root, "events", "header_page"));
        return RingBufferPageLayout.FromHeaderPage(text, PageSize, !BitConverter.IsLittleEndian);
    }

    /// <summary>Formats of the enabled events and of events that always reach the buffer (trace_marker's print).</summary>
    public List<FtraceEventFormat> ReadFormats()
    {
        var formats = new List<FtraceEventFormat>();
        foreach (var ev in EnabledEvents.Concat(TracefsEventList.AlwaysPresent))
        {
            var (system, name) = Split(ev);
            string path = Path.Combine(InstancePath, "events", system, name, "format");
            if (!File.Exists(path))
                continue;
            var format = FtraceFormatParser.ParseEvent(system, ReadText(path), IntPtr.Size);
            if (format is null)
                throw new TracefsException($"cannot parse the event format {path}");
            formats.Add(format);
        }
        return formats;
    }

    public void TracingOn(bool on) => WriteControl("tracing_on", on ? "1" : "0");

    /// <summary>Writes a line into this instance's buffer (an ftrace:print event on the writing CPU).</summary>
    public void Mark(string text)
    {
        _marker ??= OpenWrite(Path.Combine(InstancePath, "trace_marker"));
        var bytes = Encoding.UTF8.GetBytes(text);
        _marker.Write(bytes);
        _marker.Flush();
    }

    /// <summary>Path of a per-CPU file of the instance (trace_pipe_raw, stats).</summary>
    public string PerCpu(int cpu, string file) => Path.Combine(InstancePath, "per_cpu", "cpu" + cpu.ToString(CultureInfo.InvariantCulture), file);

    /// <summary>Lost-event counters the kernel keeps for each CPU of the instance.</summary>
    public TracefsKernelStats ReadStats()
    {
        var stats = new TracefsKernelStats();
        for (int cpu = 0; cpu < CpuCount; cpu++)
        {
            string path = PerCpu(cpu, "stats");
            if (File.Exists(path))
                stats.Add(File.ReadAllText(path));
        }
        return stats;
    }

    internal void WriteControl(string relative, string value)
    {
        string path = Path.Combine(InstancePath, relative);
        try
        {
            using var f = OpenWrite(path);
            f.Write(Encoding.ASCII.GetBytes(value + "\n"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw TracefsException.For($"write '{value}' to", path, ex);
        }
    }

    private static FileStream OpenWrite(string path)
    {
        try
        {
            // Open, never truncate: O_TRUNC on some tracefs files clears them.
            return new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw TracefsException.For("open for writing", path, ex);
        }
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw TracefsException.For("read", path, ex);
        }
    }

    private void Remove()
    {
        try
        {
            if (File.Exists(Path.Combine(InstancePath, "tracing_on")))
                WriteControl("tracing_on", "0");
            Directory.Delete(InstancePath, recursive: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TracefsException)
        {
            throw new TracefsException($"cannot remove the ftrace instance {InstancePath}: {ex.Message} (a process may still hold one of its files open)", ex);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _marker?.Dispose();
        try
        {
            if (Directory.Exists(InstancePath))
                Remove();
        }
        finally
        {
            // Removed while still held: a new agent that opens the name afterwards locks a fresh file.
            try
            {
                File.Delete(_lock.Name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
            _lock.Dispose();
        }
    }
}
