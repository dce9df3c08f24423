using Xunit;

namespace Vmtrace.TestSupport;

/// <summary>
/// A test against a real <c>influxd</c> (<see cref="InfluxServer"/>). Where influxd is not installed it is
/// reported as not run, except with CI=true, where it runs and fails: scripts/install-deps.sh installs it.
/// </summary>
public sealed class InfluxFactAttribute : FactAttribute
{
    public InfluxFactAttribute()
    {
        if (!InfluxServer.IsInstalled && !Corpus.IsCi)
            Skip = $"influxd is not installed ({InfluxServer.Executable}): this test did not run";
    }
}
