using System.Diagnostics;

namespace Vmtrace.Dashboards.Tests;

/// <summary>Runs the real <c>vmtrace</c> command (vmtrace.dll copied beside the tests) as a child process.</summary>
internal static class VmtraceProcess
{
    public static string Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet vmtrace.dll");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"vmtrace {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout;
    }
}
