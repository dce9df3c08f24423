using Vmtrace.TestSupport;

namespace Vmtrace.Agent.Live.Tests;

/// <summary>
/// A test that traces this machine: it needs root and tracefs. With CI=true it always runs (and fails if
/// the machine cannot do it); elsewhere it says it did not run.
/// </summary>
public sealed class LiveHostFactAttribute : FactAttribute
{
    public LiveHostFactAttribute()
    {
        if (!Corpus.IsCi && Environment.UserName != "root")
            Skip = "needs root and tracefs: this test did not run";
    }
}

/// <summary>A test that boots real QEMU guests under TCG (root, tracefs, qemu-system-x86, network namespaces). CI always runs it.</summary>
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (!Corpus.IsCi && (Environment.UserName != "root" || !File.Exists("/usr/bin/qemu-system-x86_64")))
            Skip = "needs root, tracefs and qemu-system-x86_64: this test did not run";
    }
}
