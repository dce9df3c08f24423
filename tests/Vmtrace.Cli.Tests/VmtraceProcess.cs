using System.Diagnostics;

namespace Vmtrace.Cli.Tests;

/// <summary>Runs the built <c>vmtrace</c> as a child process (what an operator runs), with a clean VMTRACE__/KAFKA_ environment plus the given variables.</summary>
internal static class VmtraceProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>True when the output holds a .NET stack trace.</summary>
        public bool HasStackTrace => (Stdout + Stderr).Contains("   at ", StringComparison.Ordinal) || (Stdout + Stderr).Contains("Unhandled exception", StringComparison.Ordinal);
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        foreach (string key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("VMTRACE__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("KAFKA_", StringComparison.Ordinal)
                || key.StartsWith("WORKER__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("AGENT__", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(key);
        }
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return psi;
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        using var p = Process.Start(StartInfo(args, environment, workingDirectory)) ?? throw new InvalidOperationException("cannot start vmtrace");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"vmtrace {string.Join(' ', args)} did not end within {timeoutSeconds} s: {await stderr}");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
