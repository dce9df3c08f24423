using Vmtrace.Analysis.Tests.Checkpoint;

namespace Vmtrace.Analysis.Tests.Nested;

/// <summary>A checkpoint taken anywhere in a nested run (L2 running, L1 root, preempted, windows closed but not taken) restores it exactly.</summary>
public class NestedCheckpointTests
{
    private static readonly VmInventory L1Vm = new("vmL1", 100, [new InventoryThread(101, "CPU 0/KVM"), new InventoryThread(102, "CPU 1/KVM")], []);

    [Fact]
    public void RestoreCheckpoint_CutAfterEveryEvent_WindowsIdenticalToStraightRun()
    {
        string straight = Run(cut: -1, out _);
        Assert.Contains("nested ept:0x7000", straight, StringComparison.Ordinal);
        int events = 0;
        var count = NestedTrackerTests.TwoL2Guests();
        while (count.MoveNext())
            events++;
        int midFlight = 0;
        for (int cut = 1; cut < events; cut++)
        {
            Assert.Equal(straight, Run(cut, out bool inContext));
            if (inContext)
                midFlight++;
        }
        // Most cuts fall while an L1 vCPU thread has a nested context (its state restored, not rebuilt).
        Assert.True(midFlight > events / 2, $"{midFlight} of {events} cuts mid-flight");
    }

    /// <summary>The windows' text (every figure, nested ones included); at event <paramref name="cut"/> the analysis is saved and continued restored.</summary>
    private static string Run(int cut, out bool inContext)
    {
        inContext = false;
        var source = NestedTrackerTests.TwoL2Guests();
        var analysis = new HostAnalysis(new AnalysisOptions { WindowNs = 25_000 });
        analysis.AddInventory(L1Vm);
        int i = 0;
        while (source.MoveNext())
        {
            if (i++ == cut)
            {
                var saved = analysis.SaveCheckpoint();
                inContext = analysis.Nested.ThreadsInNestedContext > 0;
                analysis = HostAnalysis.RestoreCheckpoint(saved);
                Assert.Equal(saved, analysis.SaveCheckpoint());
            }
            analysis.OnEvent(source.Current);
        }
        analysis.Flush(90_000);
        // Taken only at the end: closed windows wait in the checkpoints, nested figures included.
        return WindowText.Of(analysis.TakeClosedWindows());
    }
}
