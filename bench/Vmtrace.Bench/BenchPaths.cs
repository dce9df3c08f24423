namespace Vmtrace.Bench;

/// <summary>Finds the real-trace corpus: $VMTRACE_TRACES, else ../shared/traces beside the repository.</summary>
internal static class BenchPaths
{
    public static string DefaultTracesDirectory()
    {
        var env = Environment.GetEnvironmentVariable("VMTRACE_TRACES");
        if (!string.IsNullOrEmpty(env))
            return env;
        return Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "traces"));
    }

    /// <summary>The directory holding Ingest.sln: stamped at build time, else searched upwards from the working directory.</summary>
    private static string RepoRoot()
    {
        var stamped = typeof(BenchPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "VmtraceRepoRoot")?.Value;
        if (stamped is not null && File.Exists(Path.Combine(stamped, "Ingest.sln")))
            return stamped;
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
