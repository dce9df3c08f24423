namespace Vmtrace.Fuzz;

/// <summary>The repository's root (the directory holding Ingest.sln), stamped at build time.</summary>
internal static class RepoRoot
{
    public static string Find()
    {
        var stamped = typeof(RepoRoot).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "VmtraceRepoRoot")?.Value;
        if (stamped is not null && File.Exists(Path.Combine(stamped, "Ingest.sln")))
            return Path.GetFullPath(stamped);
        throw new InvalidOperationException("cannot find the repository root (Ingest.sln)");
    }
}
