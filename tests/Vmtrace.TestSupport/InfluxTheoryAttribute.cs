using Xunit;

namespace Vmtrace.TestSupport;

/// <summary>Theory form of <see cref="InfluxFactAttribute"/>.</summary>
public sealed class InfluxTheoryAttribute : TheoryAttribute
{
    public InfluxTheoryAttribute()
    {
        if (!InfluxServer.IsInstalled && !Corpus.IsCi)
            Skip = $"influxd is not installed ({InfluxServer.Executable}): this test did not run";
    }
}
