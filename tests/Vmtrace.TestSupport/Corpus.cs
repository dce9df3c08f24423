namespace Vmtrace.TestSupport;

/// <summary>
/// Finds the real-trace corpus (<c>../shared/traces</c> beside the repository, or $VMTRACE_TRACES).
/// Tests read it in place and never copy it into the repository.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<string?> s_root = new(FindRoot);

    /// <summary>The corpus directory, or null when it is not on this machine.</summary>
    public static string? Root => s_root.Value;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The repository's root (the directory holding Ingest.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var stamped = typeof(Corpus).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
                .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "VmtraceRepoRoot")?.Value;
            if (stamped is not null && File.Exists(System.IO.Path.Combine(stamped, "Ingest.sln")))
                return System.IO.Path.GetFullPath(stamped);
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Ingest.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Ingest.sln) above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Full path of a corpus file or directory; fails the test when the corpus is missing.</summary>
    public static string Path(string relative)
    {
        var root = Root ?? throw new InvalidOperationException(
            "the real-trace corpus (../shared/traces beside the repository, or $VMTRACE_TRACES) is missing");
        var full = System.IO.Path.Combine(root, relative);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new FileNotFoundException($"corpus entry missing: {full}", full);
        return full;
    }

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("VMTRACE_TRACES");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
            return env;
        try
        {
            var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "traces"));
            return Directory.Exists(candidate) ? candidate : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
