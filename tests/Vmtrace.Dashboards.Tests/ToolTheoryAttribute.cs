using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>Theory form of <see cref="ToolFactAttribute"/>: not run (and said so) without the tool or the corpus, except under CI=true, where it runs and fails.</summary>
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(string tool)
    {
        if (!Tools.Exists(tool) && !Corpus.IsCi)
            Skip = $"{tool} is not installed: this test did not run";
        else if (Corpus.Root is null && !Corpus.IsCi)
            Skip = "real-trace corpus (../shared/traces) not found: this test did not run";
    }
}
