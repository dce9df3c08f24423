using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>Where tests keep what a person should look at afterwards: $VMTRACE_TEST_ARTIFACTS, else artifacts/ in the repository (git-ignored).</summary>
internal static class TestArtifacts
{
    public static string Directory(string name)
    {
        string root = Environment.GetEnvironmentVariable("VMTRACE_TEST_ARTIFACTS") is { Length: > 0 } env
            ? env
            : Path.Combine(Corpus.RepoRoot, "artifacts");
        return System.IO.Directory.CreateDirectory(Path.Combine(root, name)).FullName;
    }
}
