namespace Vmtrace.Analysis.Tests;

/// <summary>The workload classifier and its training on synthetic feature vectors and windows (values derived by hand).</summary>
public class WorkloadClassifierTests
{
    private const long Second = 1_000_000_000;

    // Three well separated synthetic classes, two windows each (features in WorkloadFeatures.Names order).
    private static readonly LabelledWindow[] Synthetic =
    [
        new("cpu", [0.9, 0.1, 0.0, 0.0, 0, 0, 0, 0]), new("cpu", [0.8, 0.2, 0.0, 0.0, 0, 0, 0, 0]),
        new("disk", [0.1, 0.0, 0.9, 0.3, 3, 7, 0, 0]), new("disk", [0.2, 0.0, 0.8, 0.3, 3, 7, 0, 0]),
        new("net", [0.3, 0.0, 0.7, 0.5, 0, 0, 3, 6]), new("net", [0.3, 0.0, 0.7, 0.5, 0, 0, 3, 6]),
    ];

    private static WorkloadModel SyntheticModel() => WorkloadTraining.Train(Synthetic, ["synthetic"]);

    [Fact]
    public void Classify_VectorsOfEachClass_GoToTheirClass()
    {
        var model = SyntheticModel();
        Assert.Equal(["cpu", "disk", "net"], model.Classes.Select(c => c.Class));
        foreach (var w in Synthetic)
        {
            var got = model.Classify(w.Features);
            Assert.Equal(w.Class, got.Class);
            Assert.InRange(got.Confidence, 0.5, 1);
        }
    }

    [Fact]
    public void Classify_HalfwayBetweenTwoCentroids_IsMixed()
    {
        var model = SyntheticModel();
        // The mean of the cpu windows and the mean of the disk windows, then their midpoint: equally far from both
        // centroids (scaling is linear), so (d2 − d1) / (d2 + d1) = 0, below mixed_below.
        double[] cpu = [0.85, 0.15, 0.0, 0.0, 0, 0, 0, 0];
        double[] disk = [0.15, 0.0, 0.85, 0.3, 3, 7, 0, 0];
        double[] halfway = [.. cpu.Zip(disk, (a, b) => (a + b) / 2)];
        var got = model.Classify(halfway);
        Assert.Equal(WorkloadClasses.Mixed, got.Class);
        Assert.True(got.Confidence < model.MixedBelow);
    }

    [Fact]
    public void Train_IsDeterministicAndItsFileReadsBackTheSame()
    {
        string once = SyntheticModel().ToJson();
        Assert.Equal(once, SyntheticModel().ToJson());
        Assert.Equal(once, WorkloadModel.Parse(once).ToJson());
    }

    [Fact]
    public void Parse_ModelWithOtherFeatures_IsRefusedWithOneLine()
    {
        string json = SyntheticModel().ToJson().Replace("net_bytes_log10", "something_else", StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => WorkloadModel.Parse(json));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Features_DoNotDependOnTheVcpuCount()
    {
        // One vCPU on a pCPU half the window, or two vCPUs each half the window: both 0.5 per vCPU.
        var half = new CpuTimes(0, Second / 2, Second / 4, 0, Second / 4, 0);
        var one = Vm([half], 0);
        var two = Vm([half, half], 0);
        var window = new WindowMetrics(0, Second, 2, [one]);
        Assert.Equal(WorkloadFeatures.Of(window, one), WorkloadFeatures.Of(window, two));
        Assert.Equal([0.5, 0.25, 0.25], WorkloadFeatures.Of(window, one).Take(3));
    }

    [Fact]
    public void Classify_VmBarelyOnCpuMovingNothing_IsIdle()
    {
        // Threads on a pCPU 10 ms of a 1-s window: 0.01 of a pCPU, below idle_max_pcpu 0.05; confidence 1 − 0.01 / 0.05 = 0.8.
        var model = SyntheticModel();
        var quiet = Vm([new CpuTimes(0, Second / 100, 0, 0, Second * 99 / 100, 0)], 0);
        var got = model.Classify(new WindowMetrics(0, Second, 2, [quiet]), quiet);
        Assert.Equal(new WorkloadClass(WorkloadClasses.Idle, 0.8), got);

        // The same VM completing disk requests is not idle, however little CPU it uses.
        var disk = quiet with { BlockDisk = DiskLayerMetrics.Empty with { Submitted = 50, Completed = 50, WriteBytes = 50 * 65536 } };
        Assert.NotEqual(WorkloadClasses.Idle, model.Classify(new WindowMetrics(0, Second, 2, [disk]), disk).Class);
    }

    private static VmMetrics Vm(CpuTimes[] vcpus, long otherThreadsNs)
    {
        var sum = vcpus.Aggregate(default(CpuTimes), (a, b) => a.Add(b));
        return new VmMetrics("vm", 100, "test", sum, sum.OnCpuNs + otherThreadsNs, 0, vcpus.Length,
            [.. vcpus.Select((t, i) => new VcpuMetrics(i, 101 + i, t, []))], [], DiskLayerMetrics.Empty, DiskLayerMetrics.Empty,
            NetworkMetrics.Empty, []);
    }
}
