using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Vmtrace.Agent.Live.Native;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>
/// <c>trace-cmd record</c> into an existing ftrace instance, run so that it works on hosts where the function
/// tracer cannot be configured: <c>-d --no-filter</c> (otherwise it fails on set_ftrace_pid/set_ftrace_filter),
/// no command to run, stopped by SIGINT. It runs in a session of its own so a Ctrl-C at the terminal reaches
/// only the recorder, which then stops it once (a second SIGINT can cut its final flush short).
/// </summary>
public sealed partial class TraceCmd : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private TraceCmd(Process process)
    {
        _process = process;
    }

    [GeneratedRegex(@"version\s+([0-9][0-9A-Za-z.\-]*)")]
    private static partial Regex VersionPattern();

    /// <summary>trace-cmd on PATH (or the given path), else null.</summary>
    public static string? Locate(string? configured)
    {
        if (configured is { Length: > 0 })
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "trace-cmd");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>"trace-cmd 3.1.6", or "trace-cmd" when it does not say.</summary>
    public static string Version(string traceCmd)
    {
        var psi = new ProcessStartInfo(traceCmd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--version");
        using var p = Process.Start(psi);
        if (p is null)
            return "trace-cmd";
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            return "trace-cmd";
        }
        var m = VersionPattern().Match(stdout.Result + stderr.Result);
        return m.Success ? "trace-cmd " + m.Groups[1].Value : "trace-cmd";
    }

    /// <summary>The arguments of <c>trace-cmd record</c> for an instance, clock and offset (ns added to every timestamp).</summary>
    public static List<string> RecordArguments(string instance, string clock, long offsetNs, int bufferSizeKb, IEnumerable<string> events, string output)
    {
        var args = new List<string>
        {
            "record", "-d", "--no-filter",
            // Version 6: uncompressed pages (xz shrinks a sample further), read by every trace-cmd since 2.x.
            "--file-version", "6",
            // Stored as the file's OFFSET option: readers add it to every timestamp, so they come out in realtime.
            "--ts-offset", offsetNs.ToString(CultureInfo.InvariantCulture),
            "-B", instance, "-C", clock, "-b", bufferSizeKb.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var e in events)
        {
            args.Add("-e");
            args.Add(e);
        }
        args.Add("-o");
        args.Add(output);
        return args;
    }

    /// <summary>Starts trace-cmd (in its own session when <c>setsid</c> exists).</summary>
    public static TraceCmd Start(string traceCmd, IReadOnlyList<string> arguments, string workingDirectory)
    {
        string? setsid = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : File.Exists("/bin/setsid") ? "/bin/setsid" : null;
        var psi = new ProcessStartInfo(setsid ?? traceCmd)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        if (setsid is not null)
            psi.ArgumentList.Add(traceCmd); // not a group leader: setsid execs in place, so the pid is trace-cmd's
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new RecordException($"cannot start {traceCmd}");
        var tc = new TraceCmd(process);
        process.OutputDataReceived += (_, e) => tc.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => tc.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tc;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything trace-cmd printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>The last lines it printed, on one line (for an error message).</summary>
    public string Tail(int lines = 3) =>
        string.Join(" | ", Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(lines));

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public Task WaitForExitAsync(CancellationToken token) => _process.WaitForExitAsync(token);

    /// <summary>Asks trace-cmd to stop: it flushes the buffers into the file and exits.</summary>
    public void Interrupt()
    {
        if (!_process.HasExited)
            _ = LibC.Kill(_process.Id, LibC.SigInt);
    }

    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    public void Dispose() => _process.Dispose();
}
