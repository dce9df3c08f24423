using System.Diagnostics;
using System.Text;

namespace Vmtrace.Pipeline.Tests;

/// <summary>A <c>vmtrace worker</c> (or another command's) process, the CLI built beside the tests, so that it can be killed.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public WorkerProcess(IReadOnlyDictionary<string, string?> settings, string command = "worker", IReadOnlyList<string>? arguments = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
        psi.ArgumentList.Add(command);
        foreach (var a in arguments ?? [])
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in settings)
            psi.ArgumentList.Add($"--{k}={v}");
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start vmtrace " + command);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the process to end by itself; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no flush, no checkpoint, no goodbye to the group.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
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
        Kill();
        _process.Dispose();
    }
}
