using System.Globalization;
using Vmtrace.Agent.Live.Native;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>What a finished recording holds.</summary>
public sealed record RecordResult(string TracePath, long TraceBytes, VmMap Map, TimeSpan Recorded, bool StoppedEarly, int TraceCmdExitCode);

/// <summary>
/// <c>vmtrace record</c>: records this host's kernel trace the way the analysis needs it. The VM map is taken
/// from /proc first (written as vmmap.json before tracing starts, completed at the end with threads and VMs
/// that appeared meanwhile); the events go into an ftrace instance of the recorder's own (other ftrace users
/// are not disturbed), on the tai clock, recorded by trace-cmd (or, without it, read as raw pages and written
/// by <see cref="TraceDatWriter"/>) with the offset to realtime stored in the file, so the trace lines up with
/// qemu's trace log; that log, when a qemu writes one, is copied beside the trace for the time recorded. The
/// instance is removed whatever happens.
/// </summary>
public sealed class Recorder
{
    public const string TraceFileName = "trace.dat";
    public const string MapFileName = "vmmap.json";
    private const string InstancePrefix = "vmtrace-record-";

    private readonly RecordOptions _options;
    private readonly TimeProvider _time;
    private readonly TextWriter _log;

    public Recorder(RecordOptions options, TimeProvider time, TextWriter log)
    {
        _options = options;
        _time = time;
        _log = log;
    }

    /// <summary>Records until the duration is over or <paramref name="stop"/> is cancelled (both end a recording normally).</summary>
    public async Task<RecordResult> RunAsync(CancellationToken stop)
    {
        try
        {
            _options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new RecordException(ex.Message, ex);
        }
        if (LibC.GetEuid() != 0)
            throw new RecordException("vmtrace record needs root (tracefs and /proc of other users' processes)");
        string? traceCmd = _options.Writer == RecordOptions.WriterTracefs ? null : TraceCmd.Locate(_options.TraceCmd);
        if (traceCmd is null && (_options.Writer == RecordOptions.WriterTraceCmd || _options.TraceCmd is { Length: > 0 }))
        {
            throw new RecordException(_options.TraceCmd is { Length: > 0 }
                ? $"trace-cmd not found at {_options.TraceCmd}"
                : "trace-cmd is not installed (apt-get install trace-cmd): install it, or record without it with --writer tracefs");
        }
        string dir = Path.GetFullPath(_options.OutputDirectory);
        PrepareDirectory(dir);
        string tracePath = Path.Combine(dir, TraceFileName);
        string mapPath = Path.Combine(dir, MapFileName);

        var clock = TraceClockChoice.Parse(RecordOptions.Clock);
        // CLOCK_TAI differs from realtime by the kernel's whole-second TAI offset (0 until NTP sets it, 37 s on
        // synced hosts): rounding takes out the measurement's jitter.
        long offset = (long)Math.Round(clock.MeasureRealtimeOffset() / 1e9) * 1_000_000_000L;

        string root = LocateTracefs(_options.TracefsRoot);
        string clocks = File.ReadAllText(Path.Combine(root, "trace_clock"));
        if (!clocks.Replace("[", " ", StringComparison.Ordinal).Replace("]", " ", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(RecordOptions.Clock))
        {
            throw new RecordException($"this kernel's ftrace has no tai clock ({Path.Combine(root, "trace_clock")}: {clocks.Trim()}): vmtrace record needs it to align the trace " +
                "with qemu's realtime logs; record by hand with trace-cmd record --date (docs/recording.md)");
        }
        RemoveStaleInstances(root);
        var tracefs = new TracefsOptions
        {
            Root = root,
            InstanceName = _options.InstanceName,
            BufferSizeKb = _options.BufferSizeKb,
            Clock = RecordOptions.Clock,
            Events = [.. _options.Events],
        };
        using var instance = CreateInstance(tracefs, clock);
        var map = new VmMap
        {
            Host = Environment.MachineName,
            Kernel = ReadKernelRelease(),
            Cpus = instance.CpuCount,
            StartRealtimeNs = RealtimeNs(),
            Clock = new RecordedClock(clock.Name, offset, OffsetStoredInTrace: true),
            TraceWriter = traceCmd is null ? "vmtrace (tracefs trace_pipe_raw)" : TraceCmd.Version(traceCmd),
            Instance = instance.Name,
            BufferSizeKb = _options.BufferSizeKb,
            Events = [.. instance.EnabledEvents],
            MissingEvents = [.. instance.MissingEvents],
            Vms = VmMap.ScanVms(_options.Proc, atStart: true),
        };
        await File.WriteAllTextAsync(mapPath, map.ToJson(), CancellationToken.None).ConfigureAwait(false);
        string vms = map.Vms.Count == 0 ? "no VM running" : $"{map.Vms.Count} VM(s) running ({string.Join(", ", map.Vms.Select(v => $"{v.Name} pid {v.Pid}, {v.Threads.Count(t => t.Role == "vcpu")} vCPU"))})";
        await _log.WriteLineAsync($"vmtrace record: {vms}; " +
            $"{map.Events.Count} events{(map.MissingEvents.Count > 0 ? $" ({map.MissingEvents.Count} this kernel lacks: {string.Join(" ", map.MissingEvents)})" : "")}").ConfigureAwait(false);

        var started = _time.GetTimestamp();
        var (stoppedEarly, exitCode, traceCmdLog) = traceCmd is null
            ? await RecordRawAsync(instance, dir, tracePath, offset, stop, () => started = _time.GetTimestamp()).ConfigureAwait(false)
            : await RecordWithTraceCmdAsync(traceCmd, instance, clock, offset, dir, tracePath, stop, () => started = _time.GetTimestamp()).ConfigureAwait(false);
        var recorded = _time.GetElapsedTime(started);

        map.EndRealtimeNs = RealtimeNs();
        map.LostEvents = instance.ReadStats().Lost;
        map.Merge(VmMap.ScanVms(_options.Proc, atStart: false));
        if (_options.CopyQemuLogs)
            CopyQemuLogs(map, dir);
        await File.WriteAllTextAsync(mapPath, map.ToJson(), CancellationToken.None).ConfigureAwait(false);

        var info = new FileInfo(tracePath);
        if (!info.Exists || info.Length == 0)
            throw new RecordException($"no {tracePath} was written (exit code {exitCode}): {traceCmdLog}");
        return new RecordResult(tracePath, info.Length, map, recorded, stoppedEarly, exitCode);
    }

    private Task LogRecordingAsync(string dir) =>
        _log.WriteLineAsync($"vmtrace record: recording into {dir} ({(_options.Duration is { } d ? "for " + d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "until Ctrl-C")})");

    private async Task<(bool StoppedEarly, int ExitCode, string Log)> RecordWithTraceCmdAsync(string traceCmd, TracefsInstance instance, TraceClockChoice clock,
        long offset, string dir, string tracePath, CancellationToken stop, Action onArmed)
    {
        var args = TraceCmd.RecordArguments(instance.Name, clock.Name, offset, _options.BufferSizeKb, instance.EnabledEvents, tracePath);
        using var recorder = TraceCmd.Start(traceCmd, args, dir);
        bool stoppedEarly;
        try
        {
            if (!await WaitArmedAsync(recorder, instance, stop).ConfigureAwait(false))
            {
                if (recorder.HasExited)
                    throw new RecordException($"trace-cmd record exited with code {recorder.ExitCode} before recording: {recorder.Tail()}");
                throw new RecordException($"trace-cmd record did not start recording within 60 s: {recorder.Tail()}");
            }
            onArmed();
            await LogRecordingAsync(dir).ConfigureAwait(false);
            stoppedEarly = await WaitAsync(recorder.WaitForExitAsync, stop).ConfigureAwait(false);
            // (Without setsid a Ctrl-C at the terminal reaches trace-cmd too: then its exit is no surprise.)
            if (recorder.HasExited && !stop.IsCancellationRequested)
                throw new RecordException($"trace-cmd record stopped by itself with code {recorder.ExitCode}: {recorder.Tail()}");
        }
        finally
        {
            await StopAsync(recorder).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(dir, "trace-cmd.log"), recorder.Output, CancellationToken.None).ConfigureAwait(false);
        }
        return (stoppedEarly, recorder.ExitCode, recorder.Tail());
    }

    /// <summary>Without trace-cmd: the raw pages of trace_pipe_raw, then trace.dat written from them and the instance's formats.</summary>
    private async Task<(bool StoppedEarly, int ExitCode, string Log)> RecordRawAsync(TracefsInstance instance, string dir, string tracePath, long offset,
        CancellationToken stop, Action onArmed)
    {
        using var raw = new RawPageRecorder(instance, dir, TimeSpan.FromMilliseconds(100), _time);
        bool stoppedEarly;
        try
        {
            raw.Start();
            onArmed();
            await LogRecordingAsync(dir).ConfigureAwait(false);
            stoppedEarly = await WaitAsync(token => Task.Delay(Timeout.InfiniteTimeSpan, token), stop).ConfigureAwait(false);
        }
        finally
        {
            raw.Stop();
        }
        TraceDatWriter.Write(tracePath, TraceDatWriter.ReadMetadata(instance), offset, raw.PagePaths);
        return (stoppedEarly, 0, $"{raw.Pages} pages");
    }

    private long RealtimeNs() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static void PrepareDirectory(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RecordException($"cannot create the output directory {dir}: {ex.Message}", ex);
        }
        foreach (var name in new[] { TraceFileName, MapFileName })
        {
            if (File.Exists(Path.Combine(dir, name)))
                throw new RecordException($"{Path.Combine(dir, name)} exists: record into a new directory (nothing is overwritten)");
        }
        if (Directory.EnumerateFiles(dir, "qemu-*.log").Any())
            throw new RecordException($"{dir} already holds qemu-*.log files: record into a new directory (they would be read with the new trace)");
    }

    private static string LocateTracefs(string configured)
    {
        try
        {
            return TracefsMount.Locate(configured);
        }
        catch (TracefsException ex)
        {
            throw new RecordException(ex.Message, ex);
        }
    }

    private static TracefsInstance CreateInstance(TracefsOptions tracefs, TraceClockChoice clock)
    {
        try
        {
            return TracefsInstance.Create(tracefs, clock);
        }
        catch (TracefsException ex)
        {
            throw new RecordException(ex.Message, ex);
        }
    }

    /// <summary>
    /// Waits until trace-cmd switched tracing on in the instance (its "Hit Ctrl^C" line sits in a pipe buffer
    /// until it exits, so the instance is watched instead). False when it exited first or took over 60 s.
    /// </summary>
    private async Task<bool> WaitArmedAsync(TraceCmd recorder, TracefsInstance instance, CancellationToken stop)
    {
        string tracingOn = Path.Combine(instance.InstancePath, "tracing_on");
        long since = _time.GetTimestamp();
        while (!recorder.HasExited && _time.GetElapsedTime(since) < TimeSpan.FromSeconds(60) && !stop.IsCancellationRequested)
        {
            try
            {
                if (File.ReadAllText(tracingOn).Trim() == "1")
                    return true;
            }
            catch (IOException)
            {
                // Being reset by trace-cmd: look again.
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, CancellationToken.None).ConfigureAwait(false);
        }
        return stop.IsCancellationRequested && !recorder.HasExited;
    }

    /// <summary>True when stopped before the duration was over (Ctrl-C, SIGTERM). Returns early when the recorder exits by itself.</summary>
    private async Task<bool> WaitAsync(Func<CancellationToken, Task> exit, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var exitTask = exit(linked.Token);
        var timer = _options.Duration is { } d ? Task.Delay(d, _time, linked.Token) : Task.Delay(Timeout.InfiniteTimeSpan, linked.Token);
        await Task.WhenAny(exitTask, timer).ConfigureAwait(false);
        bool cancelled = stop.IsCancellationRequested;
        await linked.CancelAsync().ConfigureAwait(false);
        return cancelled && _options.Duration is not null;
    }

    /// <summary>SIGINT, then up to 2 minutes to write the buffers out (a large buffer on a slow disk takes a while).</summary>
    private static async Task StopAsync(TraceCmd recorder)
    {
        recorder.Interrupt();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await recorder.WaitForExitAsync(patience.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            recorder.Kill();
            throw new RecordException("trace-cmd did not stop within 2 minutes of SIGINT: killed (the trace may be incomplete)");
        }
    }

    private void CopyQemuLogs(VmMap map, string dir)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vm in map.Vms)
        {
            if (vm.QemuLogSource is null || !File.Exists(vm.QemuLogSource))
                continue;
            string name = QemuLogCopy.FileName(vm.Name, vm.Pid, taken);
            try
            {
                string copy = Path.Combine(dir, name);
                // Nothing logged while recording: no file (an empty one is not a trace anything can read).
                if (QemuLogCopy.CopyAppended(vm.QemuLogSource, vm.SeenAtStart ? vm.QemuLogStartOffset : 0, copy) == 0)
                    File.Delete(copy);
                else
                    vm.QemuLog = name;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _log.WriteLine($"vmtrace record: qemu log of {vm.Name} ({vm.QemuLogSource}) not copied: {ex.Message}");
            }
        }
    }

    /// <summary>Instances of recorders that died (their pid is gone) are removed: nothing else would.</summary>
    private static void RemoveStaleInstances(string root)
    {
        string instances = Path.Combine(root, "instances");
        if (!Directory.Exists(instances))
            return;
        foreach (var path in Directory.EnumerateDirectories(instances, InstancePrefix + "*"))
        {
            string suffix = Path.GetFileName(path)[InstancePrefix.Length..];
            if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out _) || Directory.Exists("/proc/" + suffix))
                continue;
            try
            {
                File.WriteAllText(Path.Combine(path, "tracing_on"), "0");
                Directory.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still in use: left alone.
            }
        }
    }

    private static string ReadKernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
