using System.Diagnostics;

namespace Vmtrace.Bench;

/// <summary>
/// Times a reference tool (babeltrace2, trace-cmd) on one input: wall time of the whole process with its
/// stdout sent to /dev/null (through <c>sh -c 'exec …'</c>, so no pipe of ours slows it down). Best of N
/// after one warm-up run.
/// </summary>
internal static class ExternalToolRunner
{
    public static bool Exists(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)));

    public static Measurement Measure(string input, string label, string tool, string[] args, long? events, int runs)
    {
        if (!Exists(tool))
            return new Measurement(input, label, events, null) { Note = $"{tool} is not installed" };
        string command = "exec " + tool + " " + string.Join(' ', args.Select(Quote)) + " > /dev/null";
        var warmUp = RunOnce(command);
        if (warmUp.ExitCode != 0)
            return new Measurement(input, label, events, null) { Note = $"{tool} exited {warmUp.ExitCode}: {warmUp.Stderr}" };
        double best = double.MaxValue;
        double bestCpu = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            var run = RunOnce(command);
            best = Math.Min(best, run.Seconds);
            bestCpu = Math.Min(bestCpu, run.CpuSeconds ?? double.MaxValue);
        }
        return new Measurement(input, label, events, best) { CpuSeconds = bestCpu == double.MaxValue ? null : bestCpu };
    }

    /// <summary>Runs the tool and counts the lines it prints (untimed): an event count when ours is missing.</summary>
    public static long? CountOutputLines(string tool, string[] args, int headerLines)
    {
        if (!Exists(tool))
            return null;
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var drainErrors = p.StandardError.ReadToEndAsync();
        long lines = 0;
        while (p.StandardOutput.ReadLine() is not null)
            lines++;
        p.WaitForExit();
        _ = drainErrors.Result;
        return p.ExitCode == 0 ? Math.Max(0, lines - headerLines) : null;
    }

    private readonly record struct Run(int ExitCode, double Seconds, double? CpuSeconds, string Stderr);

    private static Run RunOnce(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        double? childrenBefore = CpuTime.Children();
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        clock.Stop();
        // The tool replaced the shell (exec), so the child reaped here is the tool itself.
        double? cpu = CpuTime.Children() - childrenBefore;
        return new Run(p.ExitCode, clock.Elapsed.TotalSeconds, cpu, stderr.Trim());
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
