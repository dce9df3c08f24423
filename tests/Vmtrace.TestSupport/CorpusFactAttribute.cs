using Xunit;

namespace Vmtrace.TestSupport;

/// <summary>
/// A test that reads the real-trace corpus. Where the corpus is missing it is reported as not run,
/// except with CI=true, where it runs and fails: CI must never skip the real-trace tests.
/// </summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    public CorpusFactAttribute()
    {
        if (Corpus.Root is null && !Corpus.IsCi)
            Skip = "real-trace corpus (../shared/traces) not found: this test did not run";
    }
}

/// <summary>Theory form of <see cref="CorpusFactAttribute"/>.</summary>
public sealed class CorpusTheoryAttribute : TheoryAttribute
{
    public CorpusTheoryAttribute()
    {
        if (Corpus.Root is null && !Corpus.IsCi)
            Skip = "real-trace corpus (../shared/traces) not found: this test did not run";
    }
}

/// <summary>A test that needs an external tool (babeltrace2, trace-cmd…); CI installs them, so CI never skips.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool)
    {
        if (!Tools.Exists(tool) && !Corpus.IsCi)
            Skip = $"{tool} is not installed: this test did not run";
        else if (Corpus.Root is null && !Corpus.IsCi)
            Skip = "real-trace corpus (../shared/traces) not found: this test did not run";
    }
}

public static class Tools
{
    public static bool Exists(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(System.IO.Path.Combine(d, tool)));

    /// <summary>Runs a tool and returns its stdout; throws with stderr on a non-zero exit.</summary>
    public static string Run(string tool, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string stderr = stderrTask.Result;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {p.ExitCode}: {stderr}");
        return stdout;
    }
}
